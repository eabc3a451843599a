/**
 * Random numbers for the load's choices (task picks, think times, user-class order,
 * `this.random()`): with `--seed`, each virtual user draws from its own generator seeded by the
 * seed and the user's place in the run, so a run repeats its choices whatever the timing;
 * without, Math.random.
 */

/** A uniform [0, 1) source. */
export type Random = () => number

/**
 * sfc32 (Chris Doty-Humphrey's small fast counter), seeded through splitmix32 from `keys`:
 * the same keys give the same sequence on every platform and Node version.
 */
export function seededRandom(...keys: number[]): Random {
  let h = 0x9e3779b9
  const mix = (): number => {
    h = (h + 0x9e3779b9) | 0
    let z = h
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b)
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35)
    return (z ^ (z >>> 16)) >>> 0
  }
  for (const k of keys) h = (h ^ Math.imul((k >>> 0) + 0x7f4a7c15, 0x27d4eb2d)) | 0
  let a = mix()
  let b = mix()
  let c = mix()
  let d = 1
  const next = (): number => {
    const t = (((a + b) | 0) + d) | 0
    d = (d + 1) | 0
    a = b ^ (b >>> 9)
    b = (c + (c << 3)) | 0
    c = (c << 21) | (c >>> 11)
    c = (c + t) | 0
    return (t >>> 0) / 4294967296
  }
  // The first outputs of a freshly seeded sfc32 are weakly mixed: discard them.
  for (let i = 0; i < 12; i++) next()
  return next
}

/** A user's source: seeded by (seed, …where the user is) when a seed was given, else Math.random. */
export function userRandom(seed: number | undefined, ...place: number[]): Random {
  return seed === undefined ? Math.random : seededRandom(seed, ...place)
}
