/**
 * Judging thresholds on merged results: the run's summary, plus its encoded histograms when a
 * threshold names a URL served under several methods (their percentiles are merged exactly).
 */
import { addEncoded, createHistogram, latencyStats } from '../../stats/histogram.js'
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
    scope: describeScope(t.scope),
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

/** Network errors and HTTP statuses ≥ 400. */
export function failedHits(e: EndpointSummary): number {
  let n = e.errors
  for (const [status, count] of Object.entries(e.statuses)) if (Number(status) >= 400) n += count
  return n
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

function share(n: number, of: number, what: string): Measure {
  if (of === 0) return { measured: null, text: `no ${what}` }
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
