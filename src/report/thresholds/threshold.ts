/**
 * Thresholds: pass/fail criteria on a run's merged results (`--threshold 'p95<300ms'`).
 * Parsed once from the user's text; judged on the merged summary, so a cluster run is judged
 * exactly like a local one.
 */
import { UsageError } from '../../errors.js'

/** Latency metrics, in ms (from the merged HDR histograms). */
export const LATENCY_METRICS = ['p50', 'p90', 'p95', 'p99', 'p99.9', 'mean', 'min', 'max'] as const
/**
 * Counts that may also be given as a share (`errors<1%`):
 * - `errors`: hits that failed on the network or got an HTTP status ≥ 400 (share of hits);
 * - `network_errors`: hits that failed on the network, with no status (share of hits);
 * - `failed_tests`: test runs that ended in a failure or an error (share of test runs);
 * - `hits`: hits (a count only).
 */
export const COUNT_METRICS = ['errors', 'network_errors', 'failed_tests', 'hits'] as const
/** `rps`: hits per second over the whole run. */
export const RATE_METRICS = ['rps'] as const

export type LatencyMetric = (typeof LATENCY_METRICS)[number]
export type CountMetric = (typeof COUNT_METRICS)[number]
export type ThresholdMetric = LatencyMetric | CountMetric | 'rps'
export type ThresholdOp = '<' | '<=' | '>' | '>='

/** Which endpoints a threshold looks at: one (method, name), every method of a name, or all. */
export interface ThresholdScope {
  method?: string
  name: string
}

export interface Threshold {
  /** The user's text, as given: how the threshold is named everywhere. */
  text: string
  scope?: ThresholdScope
  metric: ThresholdMetric
  op: ThresholdOp
  /** In the metric's unit: ms for latency, a fraction (0.01) for a share, hits/s for rps. */
  limit: number
  /** `share` when given with `%`. */
  unit: 'ms' | 'count' | 'share' | 'per_sec'
}

const ALIASES: Record<string, ThresholdMetric> = {
  p999: 'p99.9',
  avg: 'mean',
  med: 'p50',
  median: 'p50',
  'hits/s': 'rps',
  error: 'errors',
  failures: 'failed_tests',
}

const METHOD = /^[A-Z]+$/
/** `[scope:]metric op value`: the scope is everything before the last `:` (names may contain `:`). */
const SYNTAX = /^(?:(.*):)?\s*([a-z_][a-z0-9_./]*)\s*(<=|>=|<|>)\s*([0-9]*\.?[0-9]+)\s*([a-zµ/%]*)\s*$/i

const DURATION_UNITS: Record<string, number> = { '': 1, ms: 1, s: 1000, m: 60_000, us: 0.001, 'µs': 0.001 }

/** Parses one `--threshold`; a UsageError says what is wrong and what is accepted. */
export function parseThreshold(text: string): Threshold {
  const m = SYNTAX.exec(text.trim())
  if (m === null) throw bad(text, 'expected [METHOD NAME:]METRIC<VALUE, e.g. p95<300ms, errors<1%, rps>500')
  const [, scopeText, metricText = '', opText = '<', valueText = '0', unitText = ''] = m
  const metric = normalizeMetric(metricText, text)
  const op = opText as ThresholdOp
  const value = Number(valueText)
  const unit = unitText.toLowerCase()
  const threshold: Threshold = { text: text.trim(), metric, op, limit: value, unit: 'count' }
  if (scopeText !== undefined) threshold.scope = parseScope(scopeText, text)

  if ((LATENCY_METRICS as readonly string[]).includes(metric)) {
    const factor = DURATION_UNITS[unit]
    if (factor === undefined) throw bad(text, `${metric} takes a duration: 300ms, 1s, 1.5s, 800us (no unit means ms)`)
    return { ...threshold, limit: value * factor, unit: 'ms' }
  }
  if (metric === 'rps') {
    if (unit !== '' && unit !== '/s') throw bad(text, 'rps takes hits per second: rps>500')
    return { ...threshold, unit: 'per_sec' }
  }
  if (metric === 'failed_tests' && threshold.scope !== undefined) {
    throw bad(text, 'failed_tests counts test runs, which have no URL: drop the "NAME:" part')
  }
  if (unit === '%') {
    if (metric === 'hits') throw bad(text, 'hits is a count: hits>1000')
    if (value > 100) throw bad(text, 'a share is at most 100%')
    return { ...threshold, limit: value / 100, unit: 'share' }
  }
  if (unit !== '') throw bad(text, `${metric} takes a count (errors<10) or a share (errors<1%)`)
  if (!Number.isInteger(value)) throw bad(text, `${metric} counts whole hits or test runs; for a share add %`)
  return threshold
}

/** Parses every `--threshold` given; the first bad one throws. */
export function parseThresholds(texts: readonly string[]): Threshold[] {
  return texts.map(parseThreshold)
}

function normalizeMetric(text: string, whole: string): ThresholdMetric {
  const t = text.toLowerCase()
  const metric = ALIASES[t] ?? t
  const known: readonly string[] = [...LATENCY_METRICS, ...COUNT_METRICS, ...RATE_METRICS]
  if (!known.includes(metric)) {
    throw bad(whole, `unknown metric '${text}'; known: ${known.join(', ')}`)
  }
  return metric as ThresholdMetric
}

function parseScope(text: string, whole: string): ThresholdScope {
  const scope = text.trim()
  if (scope === '') throw bad(whole, 'nothing before ":"; name a URL like "GET /items/{id}:p95<200ms"')
  const space = scope.indexOf(' ')
  const first = space > 0 ? scope.slice(0, space) : ''
  if (METHOD.test(first)) return { method: first, name: scope.slice(space + 1).trim() }
  return { name: scope }
}

function bad(text: string, why: string): UsageError {
  return new UsageError(`--threshold '${text}': ${why}`, undefined, 'LOADS_ERR_THRESHOLD')
}

/** `GET /items/{id}`, `/items/{id}` (every method) or `all`. */
export function describeScope(scope: ThresholdScope | undefined): string {
  if (scope === undefined) return 'all'
  return scope.method !== undefined ? `${scope.method} ${scope.name}` : scope.name
}
