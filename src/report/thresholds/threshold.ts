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
/** `checks`: the share of check evaluations that passed (all checks, or one: `check:'NAME'>99%`). */
export const CHECK_METRICS = ['checks'] as const

/**
 * The generator's own health (docs/generator-health.md), so CI can refuse a result measured on a
 * starved generator: `generator_elu` is the busiest worker's or agent's p95 event-loop
 * utilisation over the run (`generator_elu<90%`), `generator_delay_p99` the highest p99
 * event-loop delay of a worker or agent (`generator_delay_p99<10ms`).
 */
export const GENERATOR_METRICS = ['generator_elu', 'generator_delay_p99'] as const

export type LatencyMetric = (typeof LATENCY_METRICS)[number]
export type CountMetric = (typeof COUNT_METRICS)[number]
export type GeneratorMetric = (typeof GENERATOR_METRICS)[number]
export type ThresholdMetric = LatencyMetric | CountMetric | 'rps' | GeneratorMetric | 'checks'
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
  /** `group:NAME:…`: the metric is the group's (its blocks' wall time, its failed blocks). */
  group?: string
  /** `check:'NAME'>99%`: the share of this check's evaluations that passed. */
  check?: string
  /** `scenario:NAME:…`: the metric is the scenario's (its hits' latency, failed hits, hits, failed runs). */
  scenario?: string
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

/** `check:'status is 200'>99.9%` (the name quoted with ' or ", or bare up to the operator). */
const CHECK_SYNTAX = /^check:\s*(?:'([^']*)'|"([^"]*)"|([^<>=]*?))\s*(<=|>=|<|>)\s*([0-9]*\.?[0-9]+)\s*(%?)\s*$/i

/** Parses one `--threshold`; a UsageError says what is wrong and what is accepted. */
export function parseThreshold(text: string): Threshold {
  const trimmed = text.trim()
  if (/^check:/i.test(trimmed)) return parseCheckThreshold(trimmed)
  if (/^group:/i.test(trimmed)) return parseGroupThreshold(trimmed)
  if (/^scenario:/i.test(trimmed)) return parseScenarioThreshold(trimmed)
  const m = SYNTAX.exec(text.trim())
  if (m === null) throw bad(text, 'expected [METHOD NAME:]METRIC<VALUE, e.g. p95<300ms, errors<1%, rps>500')
  const [, scopeText, metricText = '', opText = '<', valueText = '0', unitText = ''] = m
  const metric = normalizeMetric(metricText, text)
  const op = opText as ThresholdOp
  const value = Number(valueText)
  const unit = unitText.toLowerCase()
  const threshold: Threshold = { text: text.trim(), metric, op, limit: value, unit: 'count' }
  if (scopeText !== undefined) threshold.scope = parseScope(scopeText, text)
  if ((GENERATOR_METRICS as readonly string[]).includes(metric)) return parseGenerator(threshold, value, unit)

  if ((LATENCY_METRICS as readonly string[]).includes(metric)) {
    const factor = DURATION_UNITS[unit]
    if (factor === undefined) throw bad(text, `${metric} takes a duration: 300ms, 1s, 1.5s, 800us (no unit means ms)`)
    return { ...threshold, limit: value * factor, unit: 'ms' }
  }
  if (metric === 'rps') {
    if (unit !== '' && unit !== '/s') throw bad(text, 'rps takes hits per second: rps>500')
    return { ...threshold, unit: 'per_sec' }
  }
  if (metric === 'checks') {
    if (threshold.scope !== undefined) throw bad(text, "checks are not per URL; for one check: check:'NAME'>99%")
    return checkShare(threshold, value, unit, text)
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

function checkShare(threshold: Threshold, value: number, unit: string, text: string): Threshold {
  if (unit !== '%') throw bad(text, 'checks is a share of passed checks: checks>99%')
  if (value > 100) throw bad(text, 'a share is at most 100%')
  return { ...threshold, limit: value / 100, unit: 'share' }
}

function parseCheckThreshold(text: string): Threshold {
  const m = CHECK_SYNTAX.exec(text)
  const name = (m?.[1] ?? m?.[2] ?? m?.[3] ?? '').trim()
  if (m === null || name === '') throw bad(text, "expected check:'NAME'>99% (the share of that check's evaluations that passed)")
  return { ...checkShare({ text, metric: 'checks', op: m[4] as ThresholdOp, limit: 0, unit: 'share' }, Number(m[5]), m[6] ?? '', text), check: name }
}

/** `group:NAME:METRIC…`: a latency metric of the group's blocks, or `failed_tests` (its failed blocks). */
function parseGroupThreshold(text: string): Threshold {
  const { name, inner } = parseNamedThreshold(text, 'group', 'group:checkout:p95<2s', ['failed_tests'], ' and failed_tests (its blocks that threw)')
  return { ...inner, text, group: name }
}

/** `scenario:NAME:METRIC…`: a latency metric of the scenario's hits, `errors`, `hits` or `failed_tests` (k6's `metric{scenario:NAME}`). */
function parseScenarioThreshold(text: string): Threshold {
  const { name, inner } = parseNamedThreshold(text, 'scenario', 'scenario:buy:p95<300ms', ['errors', 'hits', 'failed_tests'], ', errors, hits and failed_tests')
  return { ...inner, text, scenario: name }
}

/**
 * `KIND:NAME:METRIC…` (a group's or a scenario's): NAME, and the threshold on METRIC, which must be
 * a latency metric or one of `others`; `has` ends the message that lists what a KIND has.
 */
function parseNamedThreshold(text: string, kind: 'group' | 'scenario', example: string, others: readonly string[], has: string): { name: string; inner: Threshold } {
  const rest = text.slice(kind.length + 1)
  const m = SYNTAX.exec(rest)
  const name = m?.[1]?.trim()
  if (m === null || name === undefined || name === '') throw bad(text, `expected ${kind}:NAME:METRIC<VALUE, e.g. ${example}`)
  const inner = parseThreshold(rest.slice(rest.lastIndexOf(':', rest.search(/(<=|>=|<|>)/)) + 1))
  if (!(LATENCY_METRICS as readonly string[]).includes(inner.metric) && !others.includes(inner.metric)) {
    throw bad(text, `a ${kind} has latency metrics (${LATENCY_METRICS.join(', ')})${has}`)
  }
  return { name, inner }
}

export function parseThresholds(texts: readonly string[]): Threshold[] {
  return texts.map(parseThreshold)
}

function normalizeMetric(text: string, whole: string): ThresholdMetric {
  const t = text.toLowerCase()
  const metric = ALIASES[t] ?? t
  const known: readonly string[] = [...LATENCY_METRICS, ...COUNT_METRICS, ...RATE_METRICS, ...GENERATOR_METRICS, ...CHECK_METRICS]
  if (!known.includes(metric)) {
    throw bad(whole, `unknown metric '${text}'; known: ${known.join(', ')}`)
  }
  return metric as ThresholdMetric
}

/** `generator_elu<90%` (or a fraction, `<0.9`); `generator_delay_p99<10ms` (a duration). */
function parseGenerator(t: Threshold, value: number, unit: string): Threshold {
  if (t.scope !== undefined) throw bad(t.text, `${t.metric} is the generator's own (its worst worker or agent): drop the "NAME:" part`)
  if (t.metric === 'generator_elu') {
    if (unit === '%' && value <= 100) return { ...t, limit: value / 100, unit: 'share' }
    if (unit === '' && value <= 1) return { ...t, limit: value, unit: 'share' }
    throw bad(t.text, 'generator_elu takes a share of the time: generator_elu<90% (or <0.9)')
  }
  const factor = DURATION_UNITS[unit]
  if (factor === undefined) throw bad(t.text, 'generator_delay_p99 takes a duration: 10ms, 0.5s (no unit means ms)')
  return { ...t, limit: value * factor, unit: 'ms' }
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

/** `GET /items/{id}`, `/items/{id}` (every method), `group checkout`, `check 'NAME'` or `all`. */
export function describeScope(scope: ThresholdScope | undefined, t?: Pick<Threshold, 'group' | 'check'>): string {
  if (t?.group !== undefined) return `group ${t.group}`
  if (t?.check !== undefined) return `check '${t.check}'`
  if (scope === undefined) return 'all'
  return scope.method !== undefined ? `${scope.method} ${scope.name}` : scope.name
}
