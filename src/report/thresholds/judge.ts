/**
 * Judging thresholds on merged results: the run's summary, plus its encoded histograms when a
 * threshold names a URL served under several methods (their percentiles are merged exactly).
 */
import { addEncoded, createHistogram, latencyStats } from '../../stats/histogram.js'
import type { GeneratorSourceSummary } from '../../stats/generator-types.js'
import type { EncodedHistograms, EndpointSummary, LatencyStats, RunSummary } from '../../stats/types.js'
import { describeScope, type LatencyMetric, type Threshold, type ThresholdMetric, type ThresholdOp } from './threshold.js'

/** One threshold's verdict: what was measured and whether it held. */
export interface ThresholdResult {
  /** The threshold as the user wrote it. */
  threshold: string
  metric: ThresholdMetric
  /** `all`, `/items/{id}` or `GET /items/{id}`. */
  scope: string
  op: ThresholdOp
  limit: number
  unit: Threshold['unit']
  pass: boolean
  /** In the threshold's unit (ms, count, fraction, hits/s); null when there was nothing to measure. */
  measured: number | null
  /** `212 ms`, `2.10% (21 of 1000 hits)`, `no hits for GET /x`. */
  measuredText: string
  /**
   * Failed for good: no later hit can bring it back within its limit. True only for a count
   * over its budget (`errors<10`, `failed_tests<1`, `hits<N`), `max` over its limit and `min`
   * under its limit; a share, a percentile, a mean or a rate can always still move.
   */
  final: boolean
}

/** Judges every threshold on the results so far (mid-run) or at the end. */
export function judgeThresholds(
  thresholds: readonly Threshold[],
  summary: RunSummary,
  histograms?: EncodedHistograms,
): ThresholdResult[] {
  return thresholds.map((t) => judgeThreshold(t, summary, histograms))
}

export function judgeThreshold(t: Threshold, summary: RunSummary, histograms?: EncodedHistograms): ThresholdResult {
  const { measured, text } = measure(t, summary, histograms)
  const pass = measured !== null && compare(measured, t.op, t.limit)
  return {
    threshold: t.text,
    metric: t.metric,
    scope: describeScope(t.scope, t),
    op: t.op,
    limit: t.limit,
    unit: t.unit,
    pass,
    measured,
    measuredText: text,
    final: !pass && measured !== null && isMonotone(t),
  }
}

/** True when a failed threshold of this kind can never pass again as the run goes on. */
export function isMonotone(t: Threshold): boolean {
  const below = t.op === '<' || t.op === '<='
  if (t.unit === 'count') return below
  if (t.metric === 'max') return below
  if (t.metric === 'min') return !below
  return false
}

function compare(v: number, op: ThresholdOp, limit: number): boolean {
  switch (op) {
    case '<':
      return v < limit
    case '<=':
      return v <= limit
    case '>':
      return v > limit
    case '>=':
      return v >= limit
  }
}

interface Measure {
  measured: number | null
  text: string
}

function measure(t: Threshold, s: RunSummary, histograms: EncodedHistograms | undefined): Measure {
  if (t.metric === 'checks') return measureChecks(t, s)
  if (t.group !== undefined) return measureGroup(t, t.group, s)
  if (t.scenario !== undefined) return measureScenario(t, t.scenario, s)
  const scope = t.scope
  const endpoints = scope === undefined ? s.endpoints : s.endpoints.filter((e) => e.name === scope.name && (scope.method === undefined || e.method === scope.method))
  if (scope !== undefined && endpoints.length === 0) return { measured: null, text: `no hits for ${describeScope(scope)}` }
  const hits = sum(endpoints, (e) => e.hits)

  switch (t.metric) {
    case 'failed_tests': {
      const failed = s.tests.failures + s.tests.errors
      return t.unit === 'share'
        ? share(failed, s.tests.run, 'test runs')
        : { measured: failed, text: `${failed} of ${s.tests.run} test runs` }
    }
    case 'errors':
    case 'network_errors': {
      const n = t.metric === 'errors' ? sum(endpoints, failedHits) : sum(endpoints, (e) => e.errors)
      return t.unit === 'share' ? share(n, hits, 'hits') : { measured: n, text: `${n} of ${hits} hits` }
    }
    case 'hits':
      return { measured: hits, text: `${hits} hits` }
    case 'generator_elu':
    case 'generator_delay_p99':
      return generator(t.metric, s)
    case 'rps': {
      const rate = scope === undefined ? s.hitsPerSec : sum(endpoints, (e) => e.hitsPerSec)
      return { measured: rate, text: `${formatNumber(rate)} hits/s` }
    }
    default: {
      const stats = latencyOf(t, endpoints, s, histograms)
      if (stats === undefined) return { measured: null, text: `${describeScope(scope)} is served under several methods: name one (e.g. GET ${scope?.name ?? ''})` }
      if (stats.count === 0) return { measured: null, text: 'no hits' }
      const v = pick(stats, t.metric as LatencyMetric)
      return { measured: v, text: formatLatency(v) }
    }
  }
}

/** The worst worker's or agent's figure (see GENERATOR_METRICS); null for a result without them. */
function generator(metric: 'generator_elu' | 'generator_delay_p99', s: RunSummary): Measure {
  const g = s.generator
  if (g === undefined || g.sources.length === 0) return { measured: null, text: 'no generator figures (a result or an agent from before Loads measured them)' }
  const pick = metric === 'generator_elu' ? (x: GeneratorSourceSummary): number => x.elu.p95 : (x: GeneratorSourceSummary): number => x.delay.p99
  const worst = g.sources.reduce((a, b) => (pick(b) > pick(a) ? b : a))
  const v = pick(worst)
  const of = g.sources.length > 1 ? ` (${worst.source}, the worst of ${g.sources.length})` : ` (${worst.source})`
  return { measured: v, text: `${metric === 'generator_elu' ? formatPercent(v) : formatLatency(v)}${of}` }
}

/** The share of check evaluations that passed: every check's, or `t.check`'s. */
function measureChecks(t: Threshold, s: RunSummary): Measure {
  const checks = (s.checks ?? []).filter((c) => t.check === undefined || c.name === t.check)
  if (t.check !== undefined && checks.length === 0) return { measured: null, text: `no check named '${t.check}' ran` }
  return share(sum(checks, (c) => c.passes), sum(checks, (c) => c.passes + c.failures), 'checks passed', 'checks')
}

/** A group's blocks: their wall time, or how many threw (failed_tests). */
function measureGroup(t: Threshold, name: string, s: RunSummary): Measure {
  const g = s.groups?.find((x) => x.name === name)
  if (g === undefined || g.runs === 0) return { measured: null, text: `no block of group ${name} ran` }
  if (t.metric === 'failed_tests') {
    const failed = g.failures + g.errors
    return t.unit === 'share' ? share(failed, g.runs, 'blocks') : { measured: failed, text: `${failed} of ${g.runs} blocks` }
  }
  const v = pick(g.duration, t.metric as LatencyMetric)
  return { measured: v, text: formatLatency(v) }
}

/** A scenario's figures: its hits' latency, failed hits, hits, or failed test runs. */
function measureScenario(t: Threshold, name: string, s: RunSummary): Measure {
  const sc = s.scenarios?.find((x) => x.name === name)
  if (sc === undefined) return { measured: null, text: `no scenario ${name} ran` }
  switch (t.metric) {
    case 'failed_tests': {
      const failed = sc.failures + sc.errors
      return t.unit === 'share' ? share(failed, sc.runs, 'test runs') : { measured: failed, text: `${failed} of ${sc.runs} test runs` }
    }
    case 'errors':
      return t.unit === 'share' ? share(sc.failed, sc.hits, 'hits') : { measured: sc.failed, text: `${sc.failed} of ${sc.hits} hits` }
    case 'hits':
      return { measured: sc.hits, text: `${sc.hits} hits` }
    default: {
      if (sc.latency.count === 0) return { measured: null, text: 'no hits' }
      const v = pick(sc.latency, t.metric as LatencyMetric)
      return { measured: v, text: formatLatency(v) }
    }
  }
}

/** Failed hits: network errors and statuses the test did not expect (≥ 400 unless it said otherwise). */
export function failedHits(e: EndpointSummary): number {
  return e.failed
}

function latencyOf(t: Threshold, endpoints: EndpointSummary[], s: RunSummary, histograms: EncodedHistograms | undefined): LatencyStats | undefined {
  if (t.scope === undefined) return s.latency
  if (endpoints.length === 1) return endpoints[0]?.latency
  // Several methods under one name: merge their histograms, never average their percentiles.
  if (histograms === undefined) return undefined
  const merged = createHistogram(true)
  for (const e of endpoints) {
    const h = histograms.endpoints.find((x) => x.method === e.method && x.name === e.name)
    if (h === undefined) return undefined
    addEncoded(merged, h.latency)
  }
  return latencyStats(merged)
}

function pick(stats: LatencyStats, metric: LatencyMetric): number {
  return metric === 'p99.9' ? stats.p999 : stats[metric]
}

function share(n: number, of: number, what: string, none = what): Measure {
  if (of === 0) return { measured: null, text: `no ${none}` }
  const v = n / of
  return { measured: v, text: `${formatPercent(v)} (${n} of ${of} ${what})` }
}

function sum<T>(xs: readonly T[], f: (x: T) => number): number {
  let n = 0
  for (const x of xs) n += f(x)
  return n
}

export function formatPercent(fraction: number): string {
  const p = fraction * 100
  return `${p === 0 || p >= 10 ? p.toFixed(1) : p.toFixed(2)}%`
}

export function formatLatency(ms: number): string {
  if (ms < 10) return `${ms.toFixed(2)} ms`
  if (ms < 1000) return `${ms.toFixed(1)} ms`
  return `${Math.round(ms)} ms`
}

function formatNumber(n: number): string {
  return n < 100 ? n.toFixed(1) : Math.round(n).toString()
}
