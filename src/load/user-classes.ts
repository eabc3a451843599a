/**
 * Several user classes in one run (Locust's user classes): which class each virtual user is.
 * A pure plan over the run's global users — every worker of every agent computes the same one
 * and takes its own users' entries — so the split is exact over the whole run, not rounded per
 * worker.
 *
 * The rule, as Locust's: classes with `fixedCount` get exactly that many users first (in the
 * order the classes were given, while users remain); the other users are shared by `weight`
 * (default 1), by largest remainder (each class gets the floor of its exact share, and the users
 * left over go one each to the classes with the largest fractions; ties to the larger weight, then
 * to the class listed first — a file's classes are listed by name, as an ES module lists its
 * exports; addresses given one by one, in their order).
 */

/** A class's claim on the users (from its `static weight` and `static fixedCount`). */
export interface UserClassSpec {
  className: string
  /** Share of the users not taken by fixed counts (≥ 1; Locust's `weight`). */
  weight: number
  /** Exactly this many users, taken before the weights share the rest (Locust's `fixed_count`). */
  fixedCount?: number
}

/** Users per class, in the classes' order, summing to `total`. */
export function splitUsers(total: number, classes: readonly UserClassSpec[]): number[] {
  const counts = classes.map(() => 0)
  let left = total
  classes.forEach((c, i) => {
    if (c.fixedCount === undefined) return
    counts[i] = Math.min(c.fixedCount, left)
    left -= counts[i]!
  })
  const weighted = classes.map((c, i) => ({ i, w: c.fixedCount === undefined ? c.weight : 0 }))
  const weightSum = weighted.reduce((s, x) => s + x.w, 0)
  if (left === 0 || weightSum === 0) return counts
  const shares = weighted.map((x) => ({ i: x.i, w: x.w, exact: (left * x.w) / weightSum }))
  let given = 0
  for (const s of shares) {
    const n = Math.floor(s.exact)
    counts[s.i]! += n
    given += n
  }
  const byRemainder = shares.filter((s) => s.exact > 0).sort((a, b) => b.exact - Math.floor(b.exact) - (a.exact - Math.floor(a.exact)) || b.w - a.w || a.i - b.i)
  for (let k = 0; k < left - given; k++) counts[byRemainder[k % byRemainder.length]!.i]!++
  return counts
}

/**
 * The class of each global user 0 … total−1, interleaved so that every prefix is as close to the
 * split as it can be (users that start first under a ramp-up are a fair mix): user g goes to the
 * class furthest behind its due share at g + 1. Deterministic; O(total × classes).
 */
export function classAssignment(total: number, classes: readonly UserClassSpec[]): Uint16Array {
  const targets = splitUsers(total, classes)
  const given = targets.map(() => 0)
  const out = new Uint16Array(total)
  for (let g = 0; g < total; g++) {
    let best = -1
    let bestLag = -Infinity
    for (let c = 0; c < targets.length; c++) {
      if (given[c]! >= targets[c]!) continue
      const lag = (targets[c]! * (g + 1)) / total - given[c]!
      if (lag > bestLag + 1e-9) {
        best = c
        bestLag = lag
      }
    }
    out[g] = best
    given[best]!++
  }
  return out
}

/**
 * Where a worker's user sits among the run's global users: agent `shard` of `shards` runs the
 * whole plan, its users interleaved with the other agents' (`stepUser` numbers the user within
 * its engine). Returns the global index and the global total.
 */
export function globalUser(stepUser: number, stepUsers: number, shard: { index: number; count: number } | undefined): { index: number; total: number } {
  const count = shard?.count ?? 1
  return { index: (shard?.index ?? 0) + stepUser * count, total: stepUsers * count }
}
