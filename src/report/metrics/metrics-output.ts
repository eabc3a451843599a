/**
 * A metrics backend as an output (`--output prometheus:URL`, `influxdb:URL`, `otlp:URL`): it
 * folds the merged snapshots into a `MetricsState` and, once a second, renders the whole state
 * and hands it to its bounded `WriteQueue`. It only reads; a backend that is down or slow costs
 * dropped writes (counted, reported under the summary), never a slower load or another exit code.
 * At the end it writes the final totals and waits for the queue for at most `flushTimeoutMs`.
 */
import type { Snapshot } from '../../stats/types.js'
import type { Reporter, RunInfo } from '../reporter.js'
import { DEFAULT_MAX_NAMES, MetricsState, scenarioTags } from './metrics-state.js'
import { WriteQueue, type WriteQueueOptions, type WriteStats } from './write-queue.js'

/** What a backend does: render the state into a payload, send one payload. */
export interface MetricsBackend<T> {
  /** The payload for the state at `nowMs`; undefined when there is nothing to write yet. */
  render(state: MetricsState, info: RunInfo, nowMs: number): T | undefined
  /** Sends one payload; `signal` aborts it when the run's end stops waiting. */
  send(payload: T, signal: AbortSignal): Promise<void>
  close?(): Promise<void>
}

export interface MetricsOutputOptions extends WriteQueueOptions {
  /** How the output is named in messages: `--output prometheus:http://…` (never credentials). */
  label: string
  /** Distinct URL names kept apart (the cardinality guard). */
  maxNames?: number
  /** Between two writes, ms. Default 1000. */
  intervalMs?: number
  /** How long the end of the run waits for the last writes, ms. Default 5000. */
  flushTimeoutMs?: number
  /**
   * Shared by a run's metrics outputs: the first to end sets `at`, and each waits until then,
   * so several dead backends cost the end of the run one `flushTimeoutMs`, not one each.
   */
  flushDeadline?: { at?: number }
  /** Warnings and the closing line (stderr). */
  log?: NodeJS.WritableStream
}

export class MetricsOutput<T> implements Reporter {
  readonly #backend: MetricsBackend<T>
  readonly #opts: MetricsOutputOptions
  readonly #queue: WriteQueue<T>
  #state: MetricsState | undefined
  #info: RunInfo | undefined
  #timer: NodeJS.Timeout | undefined
  #stats: WriteStats | undefined

  constructor(backend: MetricsBackend<T>, opts: MetricsOutputOptions) {
    this.#backend = backend
    this.#opts = opts
    this.#queue = new WriteQueue((p, signal) => backend.send(p, signal), opts)
  }

  /** Writes made and dropped, once the run is over. */
  get stats(): WriteStats | undefined {
    return this.#stats
  }

  onRunStart(info: RunInfo): void {
    this.#info = info
    this.#state = new MetricsState({
      runId: info.runId,
      test: info.address,
      perAgent: info.mode === 'cluster',
      scenarioTags: scenarioTags(info),
      maxNames: this.#opts.maxNames ?? DEFAULT_MAX_NAMES,
      warn: (m) => this.#opts.log?.write(`${this.#opts.label}: ${m}\n`),
    })
    this.#timer = setInterval(() => this.#write(), this.#opts.intervalMs ?? 1000)
    this.#timer.unref()
  }

  onSnapshot(snapshot: Snapshot): void {
    this.#state?.add(snapshot)
  }

  async onRunEnd(): Promise<void> {
    clearInterval(this.#timer)
    if (this.#state === undefined) return
    this.#write()
    const deadline = (this.#opts.flushDeadline ?? {})
    deadline.at ??= Date.now() + (this.#opts.flushTimeoutMs ?? 5000)
    const stats = await this.#queue.close(Math.max(0, deadline.at - Date.now()))
    await this.#backend.close?.().catch(() => undefined)
    this.#stats = stats
    const dropped = stats.dropped > 0 ? `, ${stats.dropped} dropped (last error: ${stats.lastError ?? 'queue full'})` : ''
    this.#opts.log?.write(`${this.#opts.label}: ${stats.written} write${stats.written === 1 ? '' : 's'}${dropped}\n`)
  }

  #write(): void {
    if (this.#state === undefined || this.#info === undefined) return
    let payload: T | undefined
    try {
      payload = this.#backend.render(this.#state, this.#info, Date.now())
    } catch (err) {
      this.#opts.log?.write(`${this.#opts.label}: cannot encode the metrics: ${(err as Error).message}\n`)
      return
    }
    if (payload !== undefined) this.#queue.push(payload)
  }
}
