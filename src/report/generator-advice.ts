/**
 * How the console and the page word a generator-health warning: one text for both. Plain code,
 * no Node.js imports: the front end bundles it.
 */
import type { GeneratorLimits, GeneratorWarning } from '../stats/generator-types.js'

/** What to do about a starved generator. */
export const GENERATOR_ADVICE = "latencies may include Loads' own queueing: add workers (-w), agents, or reduce think-free users"

/**
 * `worker-1: event-loop utilisation ≥ 90% from 3 s to 9 s (6 s, peak 100%)`, or `… since 3 s (…)`
 * while the source is still over the bound. Seconds are since the run started, on the charts' axis.
 */
export function describeGeneratorWarning(w: GeneratorWarning, limits: GeneratorLimits): string {
  const what = w.kind === 'elu' ? `event-loop utilisation ≥ ${pct(limits.elu)}` : `event-loop delay p99 ≥ ${limits.delayMs} ms`
  const when = w.over ? `since ${w.fromS} s` : `from ${w.fromS} s to ${w.toS} s`
  const peak = w.kind === 'elu' ? pct(w.peak) : `${w.peak < 10 ? w.peak.toFixed(2) : w.peak.toFixed(1)} ms`
  return `${w.source}: ${what} ${when} (${w.toS - w.fromS} s, peak ${peak})`
}

export function pct(fraction: number): string {
  return `${Math.round(fraction * 100)}%`
}
