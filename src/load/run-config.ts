import type { SelectedTest } from '../case/select.js'

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
}

export const DEFAULT_TIMEOUT_MS = 30_000
export const DEFAULT_TEST_TIMEOUT_MS = 120_000
export const DEFAULT_SNAPSHOT_INTERVAL_MS = 1000
