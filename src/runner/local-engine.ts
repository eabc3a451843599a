import { Worker } from 'node:worker_threads'
import { LoadsError } from '../errors.js'
import type { Plan } from '../load/plan.js'
import { shareUsers } from '../load/plan.js'
import { Sleeper } from '../load/sleeper.js'
import type { RunConfig } from '../load/run-config.js'
import type { Snapshot } from '../stats/types.js'
import type { FromWorker, ToWorker, WorkerInit } from './worker-messages.js'

const WORKER_MAIN = new URL('./worker-main.js', import.meta.url)

export interface LocalEngineOptions {
  bundleFile: string
  config: RunConfig
  plan: Plan
  workers: number
  /** Prefix of snapshot sources: `worker-N` locally, `host-pid/worker-N` in an agent. */
  sourcePrefix?: string
  onSnapshot: (snapshot: Snapshot) => void
  /** Fires when a step starts (index into plan.steps). */
  onStep?: (index: number) => void
}

/** A test that cannot run at all: the bundle failed to load, or setUpClass threw. */
export class TestLoadError extends LoadsError {
  constructor(message: string, readonly detail: string) {
    super('LOADS_ERR_TEST_LOAD', message)
    this.name = 'TestLoadError'
  }
}

interface WorkerHandle {
  worker: Worker
  /** False once the worker failed or exited: it is owed nothing more. */
  alive: boolean
  finished: boolean
  waiting: ((message: FromWorker) => void) | undefined
}

/** How long workers get to tear down and send their final snapshot. */
const FINISH_TIMEOUT_MS = 15_000

/**
 * Runs a plan on worker threads of this machine: the steps one after another, each step's
 * users shared across the workers; every snapshot the workers send goes to `onSnapshot`.
 * The same engine runs inside each cluster agent.
 */
export class LocalEngine {
  private handles: WorkerHandle[] = []
  private stopped = false
  private failure: Error | undefined
  /** The pause between steps (`--pause`), cut short by stop(). */
  private readonly pauses = new Sleeper()
  /** `--data` round-robin: the next row, one counter shared by this engine's workers. */
  private readonly dataCounter = new SharedArrayBuffer(4)

  constructor(private readonly options: LocalEngineOptions) {}

  /** Runs the whole plan; resolves once every worker sent its final snapshot. */
  async run(): Promise<void> {
    const { plan, workers } = this.options
    this.handles = Array.from({ length: workers }, (_, i) => this.spawn(i))
    try {
      await this.all((m) => m.type === 'ready')
      for (let index = 0; index < plan.steps.length && !this.stopped; index++) {
        const step = plan.steps[index]!
        if (index > 0 && plan.pauseMs !== undefined) await this.pauses.sleep(plan.pauseMs)
        if (this.stopped) break
        this.options.onStep?.(index)
        const shares = shareUsers(step.users, workers)
        // Workers that get users take part; each knows its place so ramp-up starts, the arrival
        // schedule and unique data rows interleave across workers as if one ran them all.
        const taking = Math.min(workers, step.users)
        const think = plan.think !== undefined ? { think: plan.think } : {}
        await this.all(
          (m) => m.type === 'step-done' && m.index === index,
          (h, i) => this.post(h, { type: 'step', step: { ...step, ...think, index, users: shares[i]!, worker: i, workers: taking, totalUsers: step.users } }),
        )
      }
    } catch (err) {
      this.fail(err instanceof Error ? err : new Error(String(err)))
    } finally {
      // Every live worker still sends its final snapshot: a run that ends early loses no hit.
      let timer: NodeJS.Timeout | undefined
      const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, FINISH_TIMEOUT_MS)))
      await Promise.race([this.all((m) => m.type === 'finished', (h) => this.post(h, { type: 'finish' })).catch(() => {}), timeout])
      clearTimeout(timer)
      await Promise.all(this.handles.map((h) => h.worker.terminate()))
    }
    if (this.failure) throw this.failure
  }

  /** Asks every worker to stop: no new test runs, in-flight requests aborted; results kept. */
  stop(): void {
    if (this.stopped) return
    this.stopped = true
    this.pauses.wakeAll()
    for (const h of this.handles) this.post(h, { type: 'stop' })
  }

  private spawn(index: number): WorkerHandle {
    const prefix = this.options.sourcePrefix ?? ''
    const init: WorkerInit = { bundleFile: this.options.bundleFile, config: this.options.config, source: `${prefix}worker-${index}`, dataCounter: this.dataCounter }
    const worker = new Worker(WORKER_MAIN, { workerData: init })
    const handle: WorkerHandle = { worker, alive: true, finished: false, waiting: undefined }
    worker.on('message', (message: FromWorker) => {
      if (message.type === 'snapshot') this.options.onSnapshot(message.snapshot)
      if (message.type === 'finished') handle.finished = true
      if (message.type === 'fatal') {
        handle.alive = false
        this.fail(new TestLoadError(message.message, message.stack))
      }
      handle.waiting?.(message)
    })
    worker.on('error', (err) => {
      handle.alive = false
      this.fail(new TestLoadError(`a worker thread crashed: ${err.message}`, err.stack ?? ''))
      handle.waiting?.({ type: 'fatal', message: err.message, stack: '' })
    })
    worker.on('exit', (code) => {
      if (!handle.alive) return
      handle.alive = false
      if (!handle.finished) {
        this.fail(new TestLoadError(`a worker thread exited early (code ${code})`, ''))
        handle.waiting?.({ type: 'fatal', message: 'exited', stack: '' })
      }
    })
    return handle
  }

  private post(handle: WorkerHandle, message: ToWorker): void {
    if (!handle.alive) return
    try {
      handle.worker.postMessage(message)
    } catch {
      // The worker is gone; its exit handler reports why.
    }
  }

  /** Sends (optionally) to each live worker and waits until each answers with a matching message. */
  private async all(match: (m: FromWorker) => boolean, send?: (h: WorkerHandle, i: number) => void): Promise<void> {
    const waits = this.handles.map((h, i) => {
      if (!h.alive) return Promise.resolve()
      return new Promise<void>((resolve, reject) => {
        h.waiting = (m) => {
          if (m.type === 'fatal') {
            h.waiting = undefined
            reject(this.failure ?? new TestLoadError(m.message, m.stack))
          } else if (match(m)) {
            h.waiting = undefined
            resolve()
          }
        }
        send?.(h, i)
      })
    })
    await Promise.all(waits)
  }

  private fail(err: Error): void {
    if (!this.failure) this.failure = err
    this.stop()
  }
}
