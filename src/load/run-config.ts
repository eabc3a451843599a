import type { SelectedTest } from '../case/select.js'
import type { DataConfig } from './data-feed.js'
import type { ScenarioRun } from './scenarios.js'
import type { UserClassSpec } from './user-classes.js'

/**
 * Everything a worker needs to run its share of the load. Plain data: it crosses worker ports
 * and, inside an agent's run request, NATS.
 */
export interface RunConfig {
  tests: SelectedTest[]
  /** `--server-url`: overrides every class's `static serverUrl`. */
  serverUrl?: string
  /** Per-request timeout, ms (`--timeout`): the whole request, connect to last body byte. */
  timeoutMs: number
  /** Silence allowed before response headers, ms (`--headers-timeout`); absent: none. */
  headersTimeoutMs?: number
  /** Silence allowed between body pieces, ms (`--body-timeout`); absent: none. */
  bodyTimeoutMs?: number
  /** The largest response body kept, bytes (`--max-body`; 0: no limit); absent: the session's default, 32 MiB. */
  maxBodyBytes?: number
  /** `--discard-bodies`: response bodies are counted, not kept (a request's `discardBody: false` keeps its own). */
  discardBodies?: boolean
  /** A test run that has not settled after this long is cut off and counted as an error. */
  testTimeoutMs: number
  /** Skip TLS verification (`--insecure`). */
  insecure: boolean
  /** How often a worker sends a snapshot, ms. */
  snapshotIntervalMs: number
  /** Offer HTTP/2 (ALPN `h2`) to https:// origins (`--http2`); servers that decline keep HTTP/1.1. */
  http2?: boolean
  /** Speak HTTP/2 without TLS to http:// origins, by prior knowledge (`--h2c`). */
  h2c?: boolean
  /** Users of a worker sharing one HTTP/2 connection, each with its own streams (`--h2-streams`; default 1). */
  h2Streams?: number
  /** PEM text of the CAs to trust instead of Node's list (`--cacert`): the content, so agents need no file. */
  ca?: string
  /** PEM text of the client certificate and its key (`--cert`, `--key`). */
  cert?: string
  key?: string
  /** `--resolve host:port:addr`, as curl: connections to `host:port` go to `addr` (Host and SNI unchanged). */
  resolve?: Record<string, string>
  /** `--data`: the rows handed to `this.data`. */
  data?: DataConfig
  /** The heap limit of each worker thread, MB (`--worker-heap`); default Node's. */
  workerHeapMb?: number
  /**
   * This engine's part of a cluster run: agent `index` of `count` (default 0 of 1). Only the data
   * rows depend on it (unique rows per agent, round-robin interleaved); the load itself is the
   * whole plan on every agent.
   */
  shard?: { index: number; count: number }
  /** `--trace-context`: W3C trace context headers on every request, naming this run. */
  traceContext?: { runId: string }
  /**
   * `-e` / `--env-file`: set in each worker's `process.env` before the test module loads. Values
   * are the user's secrets as much as not: never printed, logged or written to a report.
   */
  env?: Record<string, string>
  /**
   * Several user classes: each user is one class (and runs only its tests), split as
   * load/user-classes.ts plans over the run's global users. Absent: every user runs every test.
   */
  userClasses?: UserClassSpec[]
  /** Config-file scenarios (same order as `Plan.scenarios`): each one's tests and env. */
  scenarios?: ScenarioRun[]
  /** `--seed`: every random choice of the load is drawn from generators seeded by it (load/random.ts). */
  seed?: number
}

export const DEFAULT_TIMEOUT_MS = 30_000
export const DEFAULT_TEST_TIMEOUT_MS = 120_000
export const DEFAULT_SNAPSHOT_INTERVAL_MS = 1000
