/**
 * W3C Trace Context for `--trace-context`: every request carries a `traceparent` (a new trace id
 * and span id per request, sampled), a `tracestate` entry `loads=…` naming the run, and a
 * `baggage` with the run id, the virtual user and the test, so a trace in the service's tracing
 * system leads back to the load test (and a run's id finds its traces). Headers the test sets
 * itself are left alone.
 */
import { randomFillSync } from 'node:crypto'

export class TraceContext {
  /** The test running now (`Class.method`); the worker sets it before each run. */
  test = ''
  readonly #state: string
  readonly #baggageHead: string

  /**
   * @param runId the run's id (RunInfo.runId), the same on every agent of a cluster run.
   * @param user the virtual user, e.g. `3` or `agent-host-12/3`.
   */
  constructor(
    readonly runId: string,
    readonly user: string,
  ) {
    // tracestate values: printable ASCII without ',' and '=' (W3C Trace Context §3.3.1.3.2).
    this.#state = `loads=run:${runId.replace(/[^\x21-\x7e]|[,=]/g, '_')}`
    this.#baggageHead = `loads.run_id=${encodeURIComponent(runId)},loads.user=${encodeURIComponent(user)}`
  }

  /** Adds the three headers to a request's (lower-case) headers, unless already set. */
  addTo(headers: Record<string, string>): void {
    headers['traceparent'] ??= `00-${randomHex(16)}-${randomHex(8)}-01`
    headers['tracestate'] ??= this.#state
    headers['baggage'] ??= this.test === '' ? this.#baggageHead : `${this.#baggageHead},loads.test=${encodeURIComponent(this.test)}`
  }
}

/** Random bytes drawn from a pool refilled 4 KiB at a time (one system call per ~170 requests). */
const pool = Buffer.alloc(4096)
let offset = pool.length

function randomHex(bytes: number): string {
  for (;;) {
    if (offset + bytes > pool.length) {
      randomFillSync(pool)
      offset = 0
    }
    const hex = pool.toString('hex', offset, offset + bytes)
    offset += bytes
    // An all-zero id is invalid (W3C Trace Context §3.2.2.3, §3.2.2.4): draw again.
    if (!/^0+$/.test(hex)) return hex
  }
}
