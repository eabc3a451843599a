/**
 * The generator series as the dashboard streams it: like the latency series, each update sends
 * only its recent seconds, and the page splices them into what it has. Plain code, no Node.js
 * imports: the front end bundles it.
 */
import type { GeneratorSeries } from '../stats/generator-types.js'

/** The seconds after `afterT`. */
export function tailGeneratorSeries(s: GeneratorSeries, afterT: number): GeneratorSeries {
  let from = s.t.findIndex((t) => t > afterT)
  if (from < 0) from = s.t.length
  return {
    t: s.t.slice(from),
    eluMax: s.eluMax.slice(from),
    eluMean: s.eluMean.slice(from),
    delayP99Max: s.delayP99Max.slice(from),
    sources: s.sources.map((x) => ({ source: x.source, elu: x.elu.slice(from), delayP99: x.delayP99.slice(from) })),
  }
}

/**
 * `whole` with the seconds from `tail`'s first one replaced by `tail`. Sources are matched by
 * name; one new in the tail gets nulls before it.
 */
export function mergeGeneratorTail(whole: GeneratorSeries | undefined, tail: GeneratorSeries): GeneratorSeries {
  const first = tail.t[0]
  if (whole === undefined) return tail
  if (first === undefined) return whole
  let keep = whole.t.findIndex((t) => t >= first)
  if (keep < 0) keep = whole.t.length
  const pad = (values: (number | null)[] | undefined): (number | null)[] => values?.slice(0, keep) ?? new Array<null>(keep).fill(null)
  return {
    t: [...whole.t.slice(0, keep), ...tail.t],
    eluMax: [...whole.eluMax.slice(0, keep), ...tail.eluMax],
    eluMean: [...whole.eluMean.slice(0, keep), ...tail.eluMean],
    delayP99Max: [...whole.delayP99Max.slice(0, keep), ...tail.delayP99Max],
    sources: tail.sources.map((x) => {
      const old = whole.sources.find((o) => o.source === x.source)
      return { source: x.source, elu: [...pad(old?.elu), ...x.elu], delayP99: [...pad(old?.delayP99), ...x.delayP99] }
    }),
  }
}
