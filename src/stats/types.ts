/**
 * The data that flows from the engine to every output. Everything here is plain data: it
 * crosses worker ports (structured clone) unchanged, and NATS as JSON (an agent's snapshots in
 * a binary form that decodes back to these types: cluster/snapshot-codec.ts).
 */

import type { GeneratorSample, GeneratorSummary } from './generator-types.js'

/** How a test run ended. An AssertionError is a failure; any other exception is an error. */
export type Outcome = 'pass' | 'failure' | 'error'

/**
 * A histogram as a snapshot carries it: encoded as a string (HdrHistogram V2 in base64, or the
 * compact form, see histogram-wire.ts; '' when empty), or — in a snapshot decoded from an
 * agent's binary message (cluster/snapshot-codec.ts) — the compact form's bytes.
 */
export type WireHistogram = string | Uint8Array

/**
 * One endpoint's share of a snapshot, keyed by (scenario, method, name). `name` is the URL path or
 * the `name` option the test gave (e.g. `/items/{id}`); WebSocket endpoints use method `WS`.
 */
export interface EndpointSnapshot {
  method: string
  name: string
  /**
   * The config-file scenario whose users made these hits (absent outside scenarios). A snapshot
   * may hold one endpoint per scenario for the same (method, name): the summary adds them up,
   * metrics outputs label each with its scenario.
   */
  scenario?: string
  /** Requests that got a response or failed on the network, all counted. */
  hits: number
  /** Hits that failed on the network (no status) — HTTP error statuses are not errors here. */
  errors: number
  /**
   * Hits answered with a status the test did not expect: by default any status ≥ 400; with
   * `expect: [404]` (per request or session) any other. A hit fails when `errors` or this counts
   * it. Absent counts as 0.
   */
  httpFailed?: number
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
  /**
   * Hits that opened a new connection, and the microseconds spent connecting: TCP alone, up to
   * the socket's connect (a failed connect's time lost included).
   */
  connects: number
  connectUs: number
  /**
   * Of those, the ones that did a TLS handshake after TCP connected (https, wss), and its
   * microseconds (to `secureConnect`, or to the handshake's failure). Absent when there was none:
   * plain HTTP has no TLS time, which is not 0 ms.
   */
  tlsHandshakes?: number
  tlsUs?: number
  /**
   * Open model only (`--rate`): the raw service time of each hit in microseconds (compressed
   * HDR), while `latency` counts from the run's intended start (coordinated omission corrected).
   */
  service?: WireHistogram
  /** WebSocket endpoints (method `WS`): the traffic after the handshake; gRPC endpoints (`GRPC`): the messages of the calls. */
  ws?: WsCounts
}

/**
 * What a WebSocket endpoint carried once open. Its handshakes are the endpoint's hits (status
 * 101 = opened); `bytesIn`/`bytesOut` of the endpoint count message payloads. gRPC endpoints
 * (method `GRPC`) carry the same counts: each call is a hit whose status is the gRPC status code,
 * and messages each way (unary calls' included) are counted here with their serialized bytes;
 * `closeCodes` stays empty.
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
  /**
   * What to do about it, when the error said (a LoadsError's `hint`: "is the server running and
   * listening on that port?"); the group's first error's. Absent when it had none.
   */
  hint?: string
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
  /**
   * The source's health as a load generator over the interval (gauges and a delay histogram,
   * kept per source by the aggregator: see generator-types.ts). Absent from older producers.
   */
  generator?: GeneratorSample
  /**
   * Keep-alive connections closed because the server sent bytes no request asked for (absent
   * when none were): each would otherwise have risked booking a response against the wrong request.
   */
  strayBytesDrops?: number
  /** `this.check(…)`: check name → passes and failures in this interval. Absent when none ran. */
  checks?: Record<string, CheckCounts>
  /** `this.group(name, …)`: each group's timed blocks in this interval (nested: `outer::inner`). */
  groups?: TimedSnapshot[]
  /** Each test method's runs in this interval (`Class.method`), timed. */
  methods?: TimedSnapshot[]
  /** Config-file scenarios (`[scenario.NAME]`): each one's test runs and hits in this interval. Absent without scenarios. */
  scenarios?: ScenarioSnapshot[]
  /**
   * A gauge, not a delta: how long (ms, to 100 ms) the source's oldest request still in flight at
   * `endMs` had been going; absent when none was. Sources merge by taking the highest.
   */
  oldestInFlightMs?: number
  /**
   * A cluster agent's gauge: the live-control seq (the runner's LiveState.seq) of the latest pause
   * or resume every one of its workers had said was in force when the snapshot left; absent before
   * any. The runner says "pausing" until every running agent reports the seq of its pause.
   */
  pauseSeq?: number
  /** True on the last snapshot a source will send for the run. */
  final: boolean
}

/** One check name's evaluations: they never end a run, they are counted. */
export interface CheckCounts {
  passes: number
  failures: number
}

/**
 * A named, timed piece of work — a group block or a test method's run — in a snapshot. Keyed by
 * `name`; merging adds the counts and the histograms.
 */
export interface TimedSnapshot {
  /** `checkout`, `checkout::pay`, or `Class.method`. */
  name: string
  /** Blocks (or runs) that ended in the interval. */
  runs: number
  /** Of them, ended by an AssertionError (a failed assertion or `this.fail`). */
  failures: number
  /** Of them, ended by any other exception. */
  errors: number
  /** Each block's (run's) wall time in microseconds (compressed HDR). */
  duration: WireHistogram
  /** Groups only: requests made inside the block (innermost group), by `METHOD name`. */
  requests?: Record<string, number>
}

/**
 * One scenario's share of a snapshot: its users' test runs (`runs`, `failures`, `errors`,
 * `duration`: each run's wall time, k6's `iteration_duration`) and their hits. Merging adds.
 */
export interface ScenarioSnapshot extends TimedSnapshot {
  /** Hits made by the scenario's users; of them `failed` (network errors and unexpected statuses). */
  hits: number
  failed: number
  /** Each hit's latency in microseconds (compressed HDR); open model: from the run's intended start. */
  latency: WireHistogram
  /** Open model: the scenario's scheduled starts that could not happen. */
  dropped?: number
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
  /** Hits that failed on the network. */
  errors: number
  /** Hits answered with a status the test did not expect (≥ 400 unless it said otherwise). */
  httpFailed: number
  /** Failed hits: `errors` + `httpFailed`. The one "failed" of every output. */
  failed: number
  hitsPerSec: number
  bytesIn: number
  bytesOut: number
  statuses: Record<string, number>
  errorKinds: Record<string, number>
  latency: LatencyStats
  ttfb: LatencyStats
  connects: number
  /** Mean connect time (TCP) of the hits that connected, ms. */
  connectMeanMs: number
  /** TLS handshakes done by this endpoint's hits (https, wss); absent when none (plain HTTP). */
  tlsHandshakes?: number
  /** Their mean time, ms; absent with `tlsHandshakes`. */
  tlsMeanMs?: number
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
  /**
   * Hits answered with a status the test did not expect — any ≥ 400 unless it said otherwise
   * (not network errors: those are `errors`). Failed hits = `errors` + `httpErrors`.
   */
  httpErrors: number
  activeUsers: number
  step: number
  /**
   * Latency percentiles (ms) of the hits that completed in this second; null when none did (a
   * stall, a pause, a second before the first response): nothing was measured, which is not 0 ms.
   */
  p50: number | null
  p95: number | null
  p99: number | null
}

/**
 * One (method, name)'s latency per second, columnar: `t[i]` is a second since the run started
 * (as SeriesPoint.t) in which the name had completed hits, `p50[i]` … its percentiles in ms. A
 * second without a point is one with nothing measured for that name. With many names only each
 * name's newest seconds are kept (stats/name-series.ts).
 */
export interface NameSeries {
  method: string
  name: string
  t: number[]
  p50: number[]
  p95: number[]
  p99: number[]
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
  /** Hits answered with a status the test did not expect (≥ 400 unless it said otherwise). */
  httpFailed: number
  /** Failed hits: `networkErrors` + `httpFailed`. */
  failed: number
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
  /** Whether Loads itself kept up: per worker / agent utilisation and event-loop delay, warnings. */
  generator?: GeneratorSummary
  /** Connections dropped: stray bytes from the server (see Snapshot.strayBytesDrops). Absent when none. */
  strayBytesDrops?: number
  /** `this.check(…)` results by name, sorted by name. Absent when no check ran. */
  checks?: CheckSummary[]
  /** `this.group(…)` blocks by name (nested `outer::inner`), sorted by name. Absent when none ran. */
  groups?: TimedSummary[]
  /** Each test method's runs (`Class.method`), in the order first seen. */
  methods?: TimedSummary[]
  /** Config-file scenarios that ran, sorted by name. Absent without scenarios. */
  scenarios?: ScenarioSummary[]
}

/** A scenario over the run: its test runs (timed, as a test method's) and its hits. */
export interface ScenarioSummary extends TimedSummary {
  hits: number
  /** Failed hits: network errors and statuses the test did not expect. */
  failed: number
  /** The hits' latency, ms. */
  latency: LatencyStats
  /** Open model: scheduled starts that could not happen. */
  dropped?: number
}

export interface CheckSummary {
  name: string
  passes: number
  failures: number
}

/** A group's blocks or a test method's runs over the run: counts and wall time (ms). */
export interface TimedSummary {
  name: string
  runs: number
  failures: number
  errors: number
  /** Wall time of each block or run, ms (merged HDR). */
  duration: LatencyStats
  /** Groups only: requests made inside the block (innermost group), by `METHOD name`. */
  requests?: Record<string, number>
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
  /**
   * Age (ms) of the oldest request in flight, the highest any unfinished source reported last;
   * absent when none is in flight. A stall shows here while no hit completes.
   */
  oldestInFlightMs?: number
  /** Set by the dashboard: the plan step the coordinator started last, and when (ms since epoch). */
  planStep?: number
  stepStartedMs?: number
  /** Set by the dashboard: the run is paused by live control (docs/live-control.md), as asked. */
  paused?: boolean
  /**
   * Set by the dashboard while a pause or resume is not yet in force everywhere, or while paused:
   * `pausing` until every worker (every agent) said it holds its users, then `paused`; `resuming`
   * until every one said it started again. Absent while running.
   */
  pauseState?: 'pausing' | 'paused' | 'resuming'
  /** Set by the dashboard: sources (worker threads, agents) that have not yet applied the latest pause or resume; absent when none. */
  pausePending?: number
}

/** One source's (worker's or agent's) running totals, for per-agent lines. */
/**
 * What an agent counted in a cluster run but could not store: snapshot parts too big for the
 * broker's max_payload even alone (sent emptied, docs/cluster.md), and messages given up on after
 * storing failed for two minutes. Not in the run's figures; the run is partial (exit 3).
 */
export interface Undelivered {
  /** Snapshot parts (or messages) not stored. */
  messages: number
  hits: number
  testsRun: number
  /** `this.check` evaluations (passes and failures) not stored; absent when none. */
  checks?: number
  /** What `incrCounter` added, all counters together, not stored; absent when nothing. */
  counters?: number
  /** `this.group` blocks not stored; absent when none. */
  groups?: number
}

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
  /** A cluster agent's hits and test runs counted but never delivered, as it said when it finished. Absent when none. */
  undelivered?: Undelivered
  /**
   * A cluster agent whose final snapshot never reached the runner (lost, failed, refused the run,
   * cut off with the broker): where it stood and why, as the summary says. Set once the run is
   * over, for every such agent — one that delivered nothing is a source of 0 hits with only this.
   * Absent when its final snapshot arrived, and for local workers.
   */
  unfinished?: Unfinished
}

/** Why a cluster agent's results stop short (`SourceTotals.unfinished`). */
export interface Unfinished {
  /**
   * The agent's state at the end: lost, failed, refused the run, stopped on its own (`runner-lost`,
   * `broker-lost`, `shutdown`) or on request (`stopped`, `purged`); `starting`, `running` or
   * `silent` when the runner gave up on the broker (docs/cluster.md). The schema lists the same.
   */
  state: 'lost' | 'failed' | 'refused' | 'runner-lost' | 'broker-lost' | 'shutdown' | 'stopped' | 'purged' | 'done' | 'starting' | 'running' | 'silent'
  /** In words, as under the summary: `lost: no heartbeat for 15.2 s`, `refused the run: …`, `failed: …`. */
  reason: string
}

/** The run's merged histograms (compressed base64 HDR, µs), so a saved result can be re-merged. */
export interface EncodedHistograms {
  latency: string
  endpoints: { method: string; name: string; latency: string; ttfb: string; service?: string }[]
  /** Open model: the raw service times (see RunSummary.service). */
  service?: string
  /** Each group's and each test method's durations, by name. */
  groups?: { name: string; duration: string }[]
  methods?: { name: string; duration: string }[]
  /** Each scenario's run durations and hit latencies, by name. */
  scenarios?: { name: string; duration: string; latency: string }[]
}
