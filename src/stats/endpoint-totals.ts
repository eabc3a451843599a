/**
 * One endpoint's running totals, histograms decoded: what the runner's aggregator and an agent's
 * snapshot merger both add snapshots' endpoints into, the same way.
 */
import { createHistogram, type Histogram } from './histogram.js'
import type { EndpointSnapshot, WireHistogram, WsCounts } from './types.js'

/** An endpoint's snapshot fields, its histograms decoded (and service/ws null until seen). */
export type EndpointTotals = Omit<EndpointSnapshot, 'latency' | 'ttfb' | 'service' | 'ws'> & {
  latency: Histogram
  ttfb: Histogram
  service: Histogram | null
  ws: WsCounts | null
}

export function createEndpointTotals(method: string, name: string): EndpointTotals {
  return {
    method, name, hits: 0, errors: 0, bytesIn: 0, bytesOut: 0, statuses: {}, errorKinds: {},
    latency: createHistogram(true), ttfb: createHistogram(true), connects: 0, connectUs: 0, service: null, ws: null,
  }
}

/**
 * Adds an endpoint's share of a snapshot to `t`: counters here, histograms through
 * `addHistogram` (at once, or deferred by the aggregator). Returns the hits with an HTTP error
 * status (≥ 400), which the runner's series counts.
 */
export function addEndpointInto(t: EndpointTotals, e: EndpointSnapshot, addHistogram: (target: Histogram, encoded: WireHistogram) => void): number {
  t.hits += e.hits
  t.errors += e.errors
  t.bytesIn += e.bytesIn
  t.bytesOut += e.bytesOut
  t.connects += e.connects
  t.connectUs += e.connectUs
  const httpErrors = addStatuses(t.statuses, e.statuses)
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
  return httpErrors
}

/** Adds counts by key. for…in, not Object.entries: no array of pairs per call (the merge's hot path). */
export function addCounts(target: Record<string, number>, add: Record<string, number>): void {
  for (const k in add) target[k] = (target[k] ?? 0) + add[k]!
}

/** `addCounts` for status → count; returns the hits with an HTTP error status (≥ 400). */
function addStatuses(target: Record<string, number>, add: Record<string, number>): number {
  let httpErrors = 0
  for (const k in add) {
    const n = add[k]!
    target[k] = (target[k] ?? 0) + n
    if (Number(k) >= 400) httpErrors += n
  }
  return httpErrors
}
