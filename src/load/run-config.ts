import type { SelectedTest } from '../case/select.js'
import type { DataConfig } from './data-feed.js'

/**
 * Everything a worker needs to run its share of the load. Plain data: it crosses worker ports
 * and, inside an agent's run request, NATS.
 */
export interface RunConfig {
  tests: SelectedTest[]
  /** `--server-url`: overrides every class's `static serverUrl`. */
  serverUrl?: string
  /** Per-request timeout, ms (`--timeout`). */
  timeoutMs: number
  /** A test run that has not settled after this long is cut off and counted as an error. */
  testTimeoutMs: number
  /** Skip TLS verification (`--insecure`). */
  insecure: boolean
  /** How often a worker sends a snapshot, ms. */
  snapshotIntervalMs: number
  /** Offer HTTP/2 (ALPN `h2`) to https:// origins (`--http2`); servers that decline keep HTTP/1.1. */
  http2?: boolean
  /** PEM text of the CAs to trust instead of Node's list (`--cacert`): the content, so agents need no file. */
  ca?: string
  /** PEM text of the client certificate and its key (`--cert`, `--key`). */
  cert?: string
  key?: string
  /** `--resolve host:port:addr`, as curl: connections to `host:port` go to `addr` (Host and SNI unchanged). */
  resolve?: Record<string, string>
  /** `--data`: the rows handed to `this.data`. */
  data?: DataConfig
  /**
   * This engine's part of a cluster run: agent `index` of `count` (default 0 of 1). Only the data
   * rows depend on it (unique rows per agent, round-robin interleaved); the load itself is the
   * whole plan on every agent.
   */
  shard?: { index: number; count: number }
}

export const DEFAULT_TIMEOUT_MS = 30_000
export const DEFAULT_TEST_TIMEOUT_MS = 120_000
export const DEFAULT_SNAPSHOT_INTERVAL_MS = 1000
