/**
 * One endpoint's running totals, histograms decoded: what the runner's aggregator and an agent's
 * snapshot merger both add snapshots' endpoints into, the same way.
 */
import { createHistogram, type Histogram } from './histogram.js'
import type { EndpointSnapshot, WireHistogram, WsCounts } from './types.js'

/** An endpoint's snapshot fields, its histograms decoded (and service/ws null until seen). */
export type EndpointTotals = Omit<EndpointSnapshot, 'latency' | 'ttfb' | 'service' | 'ws' | 'httpFailed' | 'tlsHandshakes' | 'tlsUs'> & {
  httpFailed: number
  tlsHandshakes: number
  tlsUs: number
  latency: Histogram
  ttfb: Histogram
  service: Histogram | null
  ws: WsCounts | null
}

/** `scenario`: kept apart per scenario (an agent's merger); the runner's summary leaves it out. */
export function createEndpointTotals(method: string, name: string, scenario?: string): EndpointTotals {
  const t: EndpointTotals = {
    method, name, hits: 0, errors: 0, httpFailed: 0, bytesIn: 0, bytesOut: 0, statuses: {}, errorKinds: {},
    latency: createHistogram(true), ttfb: createHistogram(true), connects: 0, connectUs: 0, tlsHandshakes: 0, tlsUs: 0, service: null, ws: null,
  }
  if (scenario !== undefined) t.scenario = scenario
  return t
}

/**
 * Adds an endpoint's share of a snapshot to `t`: counters here, histograms through
 * `addHistogram` (at once, or deferred by the aggregator). Returns the hits answered with a
 * status the test did not expect (`httpFailed`), which the runner's series counts.
 */
export function addEndpointInto(t: EndpointTotals, e: EndpointSnapshot, addHistogram: (target: Histogram, encoded: WireHistogram) => void): number {
  t.hits += e.hits
  t.errors += e.errors
  const httpFailed = e.httpFailed ?? 0
  t.httpFailed += httpFailed
  t.bytesIn += e.bytesIn
  t.bytesOut += e.bytesOut
  t.connects += e.connects
  t.connectUs += e.connectUs
  if (e.tlsHandshakes !== undefined) {
    t.tlsHandshakes += e.tlsHandshakes
    t.tlsUs += e.tlsUs ?? 0
  }
  addCounts(t.statuses, e.statuses)
  addCounts(t.errorKinds, e.errorKinds)
  addHistogram(t.latency, e.latency)
  addHistogram(t.ttfb, e.ttfb)
  if (e.service !== undefined) addHistogram((t.service ??= createHistogram(true)), e.service)
  if (e.ws !== undefined) {
    const ws = (t.ws ??= { messagesIn: 0, messagesOut: 0, closeCodes: {} })
    ws.messagesIn += e.ws.messagesIn
    ws.messagesOut += e.ws.messagesOut
    addCounts(ws.closeCodes, e.ws.closeCodes)
  }
  return httpFailed
}

/** Adds counts by key. for…in, not Object.entries: no array of pairs per call (the merge's hot path). */
export function addCounts(target: Record<string, number>, add: Record<string, number>): void {
  for (const k in add) target[k] = (target[k] ?? 0) + add[k]!
}
