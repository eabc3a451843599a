/**
 * The data that flows from the engine to every output. Everything here is plain data: it
 * crosses worker ports (structured clone) unchanged, and NATS as JSON (an agent's snapshots in
 * a binary form that decodes back to these types: cluster/snapshot-codec.ts).
 */

/** How a test run ended. An AssertionError is a failure; any other exception is an error. */
export type Outcome = 'pass' | 'failure' | 'error'

/**
 * A histogram as a snapshot carries it: encoded as a string (HdrHistogram V2 in base64, or the
 * compact form, see histogram-wire.ts; '' when empty), or — in a snapshot decoded from an
 * agent's binary message (cluster/snapshot-codec.ts) — the compact form's bytes.
 */
export type WireHistogram = string | Uint8Array

/**
 * One endpoint's share of a snapshot, keyed by (method, name). `name` is the URL path or the
 * `name` option the test gave (e.g. `/items/{id}`); WebSocket endpoints use method `WS`.
 */
export interface EndpointSnapshot {
  method: string
  name: string
  /** Requests that got a response or failed on the network, all counted. */
  hits: number
  /** Hits that failed on the network (no status) — HTTP error statuses are not errors here. */
  errors: number
  bytesIn: number
  bytesOut: number
  /** Status code → count; network failures are counted under their error kind instead. */
  statuses: Record<string, number>
  /** Network error kind (ECONNREFUSED, TIMEOUT, …) → count. */
  errorKinds: Record<string, number>
  /** Total latency of each hit in microseconds: a compressed, base64 HDR histogram. */
  latency: WireHistogram
  /** Time to first byte, microseconds, compressed HDR. */
  ttfb: WireHistogram
  /** Hits that opened a new connection, and the microseconds spent connecting (TCP + TLS). */
  connects: number
  connectUs: number
  /**
   * Open model only (`--rate`): the raw service time of each hit in microseconds (compressed
   * HDR), while `latency` counts from the run's intended start (coordinated omission corrected).
   */
  service?: WireHistogram
  /** WebSocket endpoints (method `WS`) only: the traffic after the handshake. */
  ws?: WsCounts
}

/**
 * What a WebSocket endpoint carried once open. Its handshakes are the endpoint's hits (status
 * 101 = opened); `bytesIn`/`bytesOut` of the endpoint count message payloads.
 */
export interface WsCounts {
  messagesIn: number
  messagesOut: number
  /** Close code (1000, 1001, 1006 …) → connections closed with it, by either side. */
  closeCodes: Record<string, number>
}

/** A group of identical test errors or failures; `stack` points at the user's file:line. */
export interface ErrorGroup {
  /** `failure` (assertion) or `error` (any other exception), or `http` for network errors. */
  outcome: 'failure' | 'error'
  /** Error class or code: AssertionError, TypeError, ECONNREFUSED, TIMEOUT, … */
  kind: string
  message: string
  /** `Class.method` of the test that raised it. */
  test: string
  count: number
  /** One representative stack, trimmed to frames outside the framework. */
  stack: string
}

/**
 * A delta of mergeable state since the previous snapshot of the same source. Counters add;
 * histograms add. Merging every snapshot of every source gives exactly the run's totals.
 */
export interface Snapshot {
  /** Format version of this structure. */
  v: 1
  /** Who produced it: `worker-0`, or an agent id `host-pid`, or `agent/worker-1`. */
  source: string
  /** 0, 1, 2 … per source; lets a receiver drop duplicates after a reconnect. */
  seq: number
  /** Wall-clock (ms since epoch) bounds of the interval this delta covers. */
  startMs: number
  endMs: number
  /** Index into the plan's steps that was running at `endMs`. */
  step: number
  /** Virtual users running at `endMs` (a gauge, not a delta). */
  activeUsers: number
  /** Test runs that ended in this interval. */
  tests: { run: number; failures: number; errors: number }
  endpoints: EndpointSnapshot[]
  /** Every hit's latency in microseconds, all endpoints together (compressed HDR). */
  latency: WireHistogram
  errors: ErrorGroup[]
  /** Custom counters from `this.incrCounter(name, n)`. */
  counters: Record<string, number>
  /** Open model: scheduled starts that could not happen in this interval (no free user in time). */
  dropped?: number
  /** Open model: every hit's raw service time, all endpoints together (compressed HDR). */
  service?: WireHistogram
  /** True on the last snapshot a source will send for the run. */
  final: boolean
}

/** Latency figures in milliseconds (from HDR histograms recorded in microseconds). */
export interface LatencyStats {
  count: number
  min: number
  mean: number
  p50: number
  p90: number
  p95: number
  p99: number
  p999: number
  max: number
}

export interface EndpointSummary {
  method: string
  name: string
  hits: number
  errors: number
  hitsPerSec: number
  bytesIn: number
  bytesOut: number
  statuses: Record<string, number>
  errorKinds: Record<string, number>
  latency: LatencyStats
  ttfb: LatencyStats
  connects: number
  /** Mean connect time of the hits that connected, ms. */
  connectMeanMs: number
  /** Open model: raw service time, beside `latency` measured from the intended start. */
  service?: LatencyStats
  /** WebSocket endpoints: messages and close codes. */
  ws?: WsCounts
}

/** One point of the per-second series: the merged delta of every source for that second. */
export interface SeriesPoint {
  /** Second since the run started (0, 1, 2 …). */
  t: number
  hits: number
  errors: number
  testsRun: number
  failures: number
  testErrors: number
  /** Hits answered with an HTTP status ≥ 400 (not network errors: those are `errors`). */
  httpErrors: number
  activeUsers: number
  step: number
  p50: number
  p95: number
  p99: number
}

/** What a finished (or interrupted) run amounts to: the input of every output. */
export interface RunSummary {
  startMs: number
  endMs: number
  durationMs: number
  tests: { run: number; failures: number; errors: number }
  hits: number
  /** Hits that failed on the network. */
  networkErrors: number
  hitsPerSec: number
  bytesIn: number
  bytesOut: number
  latency: LatencyStats
  endpoints: EndpointSummary[]
  /** Most frequent first. */
  errors: ErrorGroup[]
  counters: Record<string, number>
  /** Open model (`--rate`): scheduled starts that could not happen. Absent for closed-model runs. */
  dropped?: number
  /** Open model: raw service time of every hit; `latency` then counts from intended starts. */
  service?: LatencyStats
}

/** The live view of a run in progress, for a progress bar or a dashboard header. */
export interface LiveView {
  /** ms since the run started (by the aggregator's clock). */
  elapsedMs: number
  hits: number
  /** Hits per second over the last ~2 seconds. */
  hitsPerSec: number
  /** Hits that failed on the network so far. */
  networkErrors: number
  tests: { run: number; failures: number; errors: number }
  /** Sum of every source's latest gauge. */
  activeUsers: number
  /** The highest step any source reported last. */
  step: number
  /** Sources heard from so far, and how many of them sent their final snapshot. */
  sources: number
  finishedSources: number
  /** Open model: starts dropped so far (absent when none were). */
  dropped?: number
}

/** One source's (worker's or agent's) running totals, for per-agent lines. */
export interface SourceTotals {
  source: string
  hits: number
  networkErrors: number
  tests: { run: number; failures: number; errors: number }
  /** Highest seq received. */
  lastSeq: number
  /** When the last snapshot was received, by the aggregator's clock (ms since epoch). */
  lastSeenMs: number
  activeUsers: number
  step: number
  /** True once the source's final snapshot arrived. */
  final: boolean
}

/** The run's merged histograms (compressed base64 HDR, µs), so a saved result can be re-merged. */
export interface EncodedHistograms {
  latency: string
  endpoints: { method: string; name: string; latency: string; ttfb: string; service?: string }[]
  /** Open model: the raw service times (see RunSummary.service). */
  service?: string
}
