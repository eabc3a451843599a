/**
 * Merging saved results (`loads report --merge a.json b.json`): counters add and HDR histograms
 * add, so the merged percentiles are exactly those of one run that made every hit of both —
 * never an average of percentiles. Only the per-second series' percentiles (overall and per URL
 * name) are approximate (the higher of the two at each second): the series keep no histogram per second.
 */
import { addEncoded, createHistogram, encodeHistogram, latencyStats, type Histogram } from '../../stats/histogram.js'
import { NamedTotals, summaryAsSnapshot } from '../../stats/named-totals.js'
import type { EndpointSummary, ErrorGroup, NameSeries, SeriesPoint, WsCounts } from '../../stats/types.js'
import type { RunResult, RunState } from '../result.js'

interface EndpointAcc {
  e: EndpointSummary
  latency: Histogram
  ttfb: Histogram
  connectUs: number
  tlsHandshakes: number
  tlsUs: number
  /** Open-model service times and WebSocket counts, when a result had them. */
  service: Histogram | null
  ws: WsCounts | null
}

export function mergeResults(results: readonly RunResult[]): RunResult {
  const first = results[0]
  if (first === undefined) throw new Error('mergeResults needs at least one result')
  const startMs = Math.min(...results.map((r) => r.summary.startMs))
  const endMs = Math.max(...results.map((r) => r.summary.endMs))
  const durationMs = endMs - startMs
  const perSec = (n: number): number => (durationMs > 0 ? (n * 1000) / durationMs : 0)

  const latency = createHistogram(true)
  const endpoints = new Map<string, EndpointAcc>()
  const errors = new Map<string, ErrorGroup>()
  const counters: Record<string, number> = {}
  const tests = { run: 0, failures: 0, errors: 0 }
  let hits = 0
  let networkErrors = 0
  let bytesIn = 0
  let bytesOut = 0
  let service: Histogram | null = null
  let dropped: number | undefined
  let strayBytesDrops: number | undefined
  const named = new NamedTotals()

  for (const r of results) {
    named.add(summaryAsSnapshot(r.summary, r.histograms), addEncoded)
    addEncoded(latency, r.histograms.latency)
    if (r.histograms.service !== undefined) addEncoded((service ??= createHistogram(true)), r.histograms.service)
    const s = r.summary
    if (s.dropped !== undefined) dropped = (dropped ?? 0) + s.dropped
    if (s.strayBytesDrops !== undefined) strayBytesDrops = (strayBytesDrops ?? 0) + s.strayBytesDrops
    hits += s.hits
    networkErrors += s.networkErrors
    bytesIn += s.bytesIn
    bytesOut += s.bytesOut
    tests.run += s.tests.run
    tests.failures += s.tests.failures
    tests.errors += s.tests.errors
    for (const [k, n] of Object.entries(s.counters)) counters[k] = (counters[k] ?? 0) + n
    for (const g of s.errors) {
      const key = JSON.stringify([g.outcome, g.kind, g.message, g.test])
      const prev = errors.get(key)
      if (prev === undefined) errors.set(key, { ...g })
      else prev.count += g.count
    }
    for (const e of s.endpoints) {
      const key = `${e.method} ${e.name}`
      let acc = endpoints.get(key)
      if (acc === undefined) {
        const { service: _service, ws: _ws, tlsHandshakes: _h, tlsMeanMs: _t, ...rest } = e
        acc = {
          e: { ...rest, hits: 0, errors: 0, httpFailed: 0, failed: 0, bytesIn: 0, bytesOut: 0, statuses: {}, errorKinds: {}, connects: 0 },
          latency: createHistogram(true),
          ttfb: createHistogram(true),
          connectUs: 0,
          tlsHandshakes: 0,
          tlsUs: 0,
          service: null,
          ws: null,
        }
        endpoints.set(key, acc)
      }
      acc.e.hits += e.hits
      acc.e.errors += e.errors
      acc.e.httpFailed += e.httpFailed
      acc.e.failed += e.failed
      acc.e.bytesIn += e.bytesIn
      acc.e.bytesOut += e.bytesOut
      acc.e.connects += e.connects
      acc.connectUs += e.connectMeanMs * 1000 * e.connects
      acc.tlsHandshakes += e.tlsHandshakes ?? 0
      acc.tlsUs += (e.tlsMeanMs ?? 0) * 1000 * (e.tlsHandshakes ?? 0)
      addCounts(acc.e.statuses, e.statuses)
      addCounts(acc.e.errorKinds, e.errorKinds)
      if (e.ws !== undefined) {
        const ws = (acc.ws ??= { messagesIn: 0, messagesOut: 0, closeCodes: {} })
        ws.messagesIn += e.ws.messagesIn
        ws.messagesOut += e.ws.messagesOut
        addCounts(ws.closeCodes, e.ws.closeCodes)
      }
      const h = r.histograms.endpoints.find((x) => x.method === e.method && x.name === e.name)
      if (h !== undefined) {
        addEncoded(acc.latency, h.latency)
        addEncoded(acc.ttfb, h.ttfb)
        if (h.service !== undefined) addEncoded((acc.service ??= createHistogram(true)), h.service)
      }
    }
  }

  const mergedEndpoints = [...endpoints.values()]
    .map(({ e, latency: l, ttfb, connectUs, tlsHandshakes, tlsUs, service: sv, ws }) => ({
      ...e,
      hitsPerSec: perSec(e.hits),
      latency: latencyStats(l),
      ttfb: latencyStats(ttfb),
      connectMeanMs: e.connects > 0 ? connectUs / e.connects / 1000 : 0,
      ...(tlsHandshakes > 0 ? { tlsHandshakes, tlsMeanMs: tlsUs / tlsHandshakes / 1000 } : {}),
      ...(sv !== null ? { service: latencyStats(sv) } : {}),
      ...(ws !== null ? { ws } : {}),
    }))
    .sort((a, b) => b.hits - a.hits || a.name.localeCompare(b.name) || a.method.localeCompare(b.method))

  return {
    format: first.format,
    version: first.version,
    loadsVersion: first.loadsVersion,
    run: {
      ...first.run,
      runId: results.map((r) => r.run.runId).join('+'),
      address: [...new Set(results.map((r) => r.run.address))].join(' + '),
      tests: unique(results.flatMap((r) => r.run.tests), (t) => `${t.className}.${t.methodName}`),
      workers: results.reduce((n, r) => n + r.run.workers, 0),
      startMs,
    },
    state: worstState(results.map((r) => r.state)),
    exitCode: Math.max(...results.map((r) => r.exitCode)),
    summary: {
      startMs,
      endMs,
      durationMs,
      tests,
      hits,
      networkErrors,
      httpFailed: results.reduce((n, r) => n + r.summary.httpFailed, 0),
      failed: results.reduce((n, r) => n + r.summary.failed, 0),
      hitsPerSec: perSec(hits),
      bytesIn,
      bytesOut,
      latency: latencyStats(latency),
      endpoints: mergedEndpoints,
      errors: [...errors.values()].sort((a, b) => b.count - a.count),
      counters,
      ...named.summary(),
      ...(dropped !== undefined ? { dropped } : {}),
      ...(strayBytesDrops !== undefined ? { strayBytesDrops } : {}),
      ...(service !== null ? { service: latencyStats(service) } : {}),
    },
    series: mergeSeries(results, startMs),
    ...mergeNameSeries(results, startMs),
    sources: results.flatMap((r, i) => r.sources.map((s) => ({ ...s, source: results.length > 1 ? `run${i + 1}/${s.source}` : s.source }))),
    thresholds: [],
    nowMs: endMs,
    histograms: {
      latency: encodeHistogram(latency),
      endpoints: [...endpoints.values()].map(({ e, latency: l, ttfb, service: sv }) => ({
        method: e.method,
        name: e.name,
        latency: encodeHistogram(l),
        ttfb: encodeHistogram(ttfb),
        ...(sv !== null ? { service: encodeHistogram(sv) } : {}),
      })),
      ...(service !== null ? { service: encodeHistogram(service) } : {}),
      ...named.encoded(),
    },
  }
}

/** Seconds aligned on the wall clock: runs that overlapped add up in the seconds they shared. */
function mergeSeries(results: readonly RunResult[], startMs: number): SeriesPoint[] {
  const byT = new Map<number, SeriesPoint>()
  for (const r of results) {
    const offset = Math.round((r.summary.startMs - startMs) / 1000)
    for (const p of r.series) {
      const t = p.t + offset
      const q = byT.get(t)
      if (q === undefined) {
        byT.set(t, { ...p, t })
        continue
      }
      q.hits += p.hits
      q.errors += p.errors
      q.testsRun += p.testsRun
      q.failures += p.failures
      q.testErrors += p.testErrors
      q.httpErrors += p.httpErrors
      q.activeUsers += p.activeUsers
      q.step = Math.max(q.step, p.step)
      q.p50 = higher(q.p50, p.p50)
      q.p95 = higher(q.p95, p.p95)
      q.p99 = higher(q.p99, p.p99)
    }
  }
  return [...byT.values()].sort((a, b) => a.t - b.t)
}

/**
 * Each URL name's latency series, on the same clock as `mergeSeries`: a second two runs shared
 * gets the higher of their percentiles, as the overall series does. Absent when no result has any.
 */
function mergeNameSeries(results: readonly RunResult[], startMs: number): { nameSeries?: NameSeries[] } {
  if (results.every((r) => r.nameSeries === undefined)) return {}
  const byName = new Map<string, { method: string; name: string; points: Map<number, [number, number, number]> }>()
  for (const r of results) {
    const offset = Math.round((r.summary.startMs - startMs) / 1000)
    for (const ns of r.nameSeries ?? []) {
      const key = `${ns.method} ${ns.name}`
      let acc = byName.get(key)
      if (acc === undefined) byName.set(key, (acc = { method: ns.method, name: ns.name, points: new Map() }))
      ns.t.forEach((t, i) => {
        const q = acc.points.get(t + offset)
        const p: [number, number, number] = [ns.p50[i]!, ns.p95[i]!, ns.p99[i]!]
        acc.points.set(t + offset, q === undefined ? p : [Math.max(q[0], p[0]), Math.max(q[1], p[1]), Math.max(q[2], p[2])])
      })
    }
  }
  const nameSeries = [...byName.values()].map(({ method, name, points }) => {
    const ts = [...points.keys()].sort((a, b) => a - b)
    return { method, name, t: ts, p50: ts.map((t) => points.get(t)![0]), p95: ts.map((t) => points.get(t)![1]), p99: ts.map((t) => points.get(t)![2]) }
  })
  return { nameSeries }
}

/** The higher of two percentiles, where null (nothing measured that second) is no figure at all. */
function higher(a: number | null, b: number | null): number | null {
  if (a === null) return b
  return b === null ? a : Math.max(a, b)
}

const STATE_ORDER: RunState[] = ['finished', 'running', 'aborted', 'interrupted']

function worstState(states: RunState[]): RunState {
  return states.reduce((w, s) => (STATE_ORDER.indexOf(s) > STATE_ORDER.indexOf(w) ? s : w), 'finished' as RunState)
}

function addCounts(target: Record<string, number>, add: Record<string, number>): void {
  for (const [k, n] of Object.entries(add)) target[k] = (target[k] ?? 0) + n
}

function unique<T>(xs: T[], key: (x: T) => string): T[] {
  const seen = new Set<string>()
  return xs.filter((x) => (seen.has(key(x)) ? false : (seen.add(key(x)), true)))
}
