import { Worker } from 'node:worker_threads'
import { LoadsError } from '../errors.js'
import type { Plan } from '../load/plan.js'
import { shareUsers } from '../load/plan.js'
import type { EngineChange } from '../load/control.js'
import { agentPlace, placeShare, scenarioSteps } from '../load/scenarios.js'
import { Sleeper } from '../load/sleeper.js'
import type { RunConfig } from '../load/run-config.js'
import type { Snapshot } from '../stats/types.js'
import { Recorder } from '../stats/recorder.js'
import { ExitCode } from './exit-codes.js'
import { sizeWorkerHeaps } from './worker-heap.js'
import type { FromWorker, ToWorker, WorkerInit } from './worker-messages.js'
import { PULSE_MS, WorkerPulse } from './worker-pulse.js'

const WORKER_MAIN = new URL('./worker-main.js', import.meta.url)

export interface LocalEngineOptions {
  bundleFile: string
  config: RunConfig
  plan: Plan
  workers: number
  /** The environment each worker thread's `process.env` starts from (Worker's `env`); `process.env` when absent. */
  workerEnv?: NodeJS.ProcessEnv
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
  source: string
  worker: Worker
  pulse: WorkerPulse
  /** True once the worker loaded the test and ran setUpClass: from then on its loss is not fatal. */
  ready: boolean
  /** False once the worker failed, crashed, exited or was ended: it is owed nothing more. */
  alive: boolean
  finished: boolean
  /** Live control: the users (or rate cap) of the step running now, and whether it sent step-done. */
  stepUsers: number
  stepDone: boolean
  /** The last pause or resume (by seq) this worker said is in force. */
  pauseSeq: number
  /** The last snapshot seq received: the engine's own final snapshot for it comes next. */
  lastSeq: number
  /** The heartbeat as last read, and when it last moved (performance.now() ms). */
  beats: number
  beatMs: number
  spawnedMs: number
  /** Who waits on this worker's messages: one per `all()` in progress (several with scenarios). */
  waiting: Set<(message: FromWorker | 'gone') => void>
}

/** `-w` beyond this many threads per core is refused (locally) or capped (on an agent): they would only compete for the cores. */
export const MAX_WORKERS_PER_CORE = 4

/** How long workers get to tear down and send their final snapshot (tearDownClass gets 10 s of it). */
const FINISH_TIMEOUT_MS = 15_000
/** A worker that has not loaded the test (and run setUpClass) after this long is ended, ms. */
const READY_LIMIT_MS = 60_000
/** After stop(): workers still running then are ended, so a stop ends the run within ~3 s. */
export const STOP_GRACE_MS = 3_000
/**
 * A worker whose heartbeat has not moved for this long is stuck in synchronous code and is ended:
 * `--test-timeout`, but at least 5 s (a busy machine's pauses) and at most 10 s.
 */
export function stuckAfterMs(testTimeoutMs: number): number {
  return Math.min(10_000, Math.max(5_000, testTimeoutMs))
}

/**
 * Runs a plan on worker threads of this machine: the steps one after another, each step's
 * users shared across the workers; every snapshot the workers send goes to `onSnapshot`.
 * The same engine runs inside each cluster agent.
 *
 * A worker that crashes, runs out of memory or is stuck in synchronous code is ended: what it
 * recorded up to its last snapshot is kept, its runs in progress are counted as errors of kind
 * WorkerCrashed, WorkerOutOfMemory or WorkerStuck, and the other workers go on.
 */
export class LocalEngine {
  private handles: WorkerHandle[] = []
  private stopped = false
  private failure: Error | undefined
  /** What happened to workers that were ended (lines for the summary). */
  private readonly lost: string[] = []
  /** The pause between steps (`--pause`), cut short by stop(). */
  private readonly pauses = new Sleeper()
  /** `--data` round-robin: the next row, one counter shared by this engine's workers. */
  private readonly dataCounter = new SharedArrayBuffer(4)
  private step = 0
  private watchdog: NodeJS.Timeout | undefined
  private lastCheckMs = 0
  private stopTimer: NodeJS.Timeout | undefined
  /** Live control: paused now (a step that starts meanwhile starts paused). */
  private paused = false
  /** Live control: pauses and resumes sent so far; each worker answers the latest with `applied`. */
  private pauseSeq = 0

  constructor(private readonly options: LocalEngineOptions) {}

  /** Runs the whole plan; resolves once every worker sent its final snapshot or was ended. */
  async run(): Promise<void> {
    const { plan, workers } = this.options
    this.handles = Array.from({ length: workers }, (_, i) => this.spawn(i))
    this.lastCheckMs = performance.now()
    this.watchdog = setInterval(() => this.checkPulses(), PULSE_MS)
    try {
      await this.all((m) => m.type === 'ready')
      if (plan.scenarios !== undefined) await this.runScenarios(plan)
      for (let index = 0; plan.scenarios === undefined && index < plan.steps.length && !this.stopped; index++) {
        const step = plan.steps[index]!
        if (index > 0 && plan.pauseMs !== undefined) await this.pauses.sleep(plan.pauseMs)
        if (this.stopped || !this.handles.some((h) => h.alive)) break
        this.step = index
        this.options.onStep?.(index)
        const shares = shareUsers(step.users, workers)
        // Workers that get users take part; each knows its place so ramp-up starts, the arrival
        // schedule and unique data rows interleave across workers as if one ran them all.
        const taking = Math.min(workers, step.users)
        const think = plan.think !== undefined ? { think: plan.think } : {}
        this.handles.forEach((h, i) => {
          h.stepUsers = shares[i]!
          h.stepDone = false
        })
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
      for (const h of this.handles) this.end(h, 'WorkerStuck', `did not finish within ${FINISH_TIMEOUT_MS / 1000} s: ended`)
      clearInterval(this.watchdog)
      clearTimeout(this.stopTimer)
      await Promise.all(this.handles.map((h) => h.worker.terminate()))
    }
    if (this.failure) throw this.failure
  }

  /**
   * Scenarios side by side: each waits for its start offset (from now: every worker is ready),
   * then runs its steps in order. Every worker takes part in every step; its users (and open-model
   * arrivals) are those of its place among all the run's workers (load/scenarios.ts' agentPlace),
   * so a scenario's figures are split exactly over workers and agents.
   */
  private async runScenarios(plan: Plan): Promise<void> {
    const startMs = performance.now()
    const shard = this.options.config.shard
    const workers = this.handles.length
    await Promise.all(
      plan.scenarios!.map(async (scenario, s) => {
        const think = scenario.think !== undefined ? { think: scenario.think } : {}
        for (const [k, index] of scenarioSteps(plan, s).entries()) {
          const waitMs = k === 0 ? scenario.startMs - (performance.now() - startMs) : (scenario.pauseMs ?? 0)
          if (waitMs > 0) await this.pauses.sleep(waitMs)
          if (this.stopped || !this.handles.some((h) => h.alive)) return
          this.step = index
          this.options.onStep?.(index)
          const step = plan.steps[index]!
          await this.all(
            (m) => m.type === 'step-done' && m.index === index,
            (h, i) => {
              const place = agentPlace(i, workers, shard)
              const share = placeShare(step.users, place.worker, place.workers)
              // Open model: `users` caps runs in flight; every worker has arrivals, so at least one.
              const users = step.rate !== undefined ? Math.max(1, share) : share
              this.post(h, { type: 'step', step: { ...step, ...think, index, users, worker: place.worker, workers: place.workers, totalUsers: step.users } })
            },
          )
        }
      }),
    )
  }

  /**
   * Asks every worker to stop: no new test runs, in-flight requests aborted; results kept.
   * Workers still running `STOP_GRACE_MS` later are ended (a stop never waits on user code).
   */
  stop(): void {
    if (this.stopped) return
    this.stopped = true
    this.pauses.wakeAll()
    for (const h of this.handles) this.post(h, { type: 'stop' })
    this.stopTimer = setTimeout(() => {
      for (const h of this.handles) {
        const silent = h.ready && performance.now() - h.beatMs > 1000
        this.end(h, silent ? 'WorkerStuck' : 'Interrupted', silent ? 'was stuck in synchronous code when the run stopped: ended' : `had not finished ${STOP_GRACE_MS / 1000} s after the stop: ended`)
      }
    }, STOP_GRACE_MS)
  }

  /**
   * A change to the run in progress (docs/live-control.md), split over the workers exactly as a
   * step's users are: `users` over the workers still in the step (shareUsers: the first ones get
   * one more), a rate over the workers taking arrivals (each its interleaved part of this
   * engine's arrivals offset, offset + stride … of the schedule), pause and resume to every worker.
   */
  control(change: EngineChange): void {
    if (this.stopped) return
    if ('pause' in change || 'resume' in change) {
      this.paused = 'pause' in change
      const seq = ++this.pauseSeq
      for (const h of this.handles) this.post(h, { type: 'control', change, seq })
      return
    }
    const inStep = this.handles.filter((h) => h.alive && !h.stepDone && ('users' in change || h.stepUsers > 0))
    if ('users' in change) {
      const shares = shareUsers(change.users, inStep.length)
      inStep.forEach((h, i) => this.post(h, { type: 'control', change: { users: shares[i]! } }))
      return
    }
    const { offset, stride } = change
    inStep.forEach((h, i) => this.post(h, { type: 'control', change: { rate: change.rate, offset: offset + i * stride, stride: stride * inStep.length } }))
  }

  /** True while paused by live control. */
  get isPaused(): boolean {
    return this.paused
  }

  /**
   * Workers still running that have not yet said the latest pause or resume is in force (0 once
   * every one has, or before any): a paused run whose workers are all in it starts no test run.
   */
  pausePending(): number {
    let pending = 0
    for (const h of this.handles) if (h.alive && !h.finished && h.pauseSeq < this.pauseSeq) pending++
    return pending
  }

  /** Lines for the summary: workers that were ended, and why. */
  notes(): string[] {
    return [...this.lost]
  }

  /** Test failures (1) when a worker crashed or was stuck, even if it cut no run. */
  exitCode(): number | undefined {
    return this.lost.length > 0 ? ExitCode.TEST_FAILURES : undefined
  }

  private spawn(index: number): WorkerHandle {
    const prefix = this.options.sourcePrefix ?? ''
    const { config } = this.options
    const pulse = new WorkerPulse(config.tests.length)
    const source = `${prefix}worker-${index}`
    const init: WorkerInit = { bundleFile: this.options.bundleFile, config, source, dataCounter: this.dataCounter, pulse: pulse.buffer }
    const resourceLimits = config.workerHeapMb !== undefined ? { resourceLimits: { maxOldGenerationSizeMb: config.workerHeapMb } } : {}
    sizeWorkerHeaps(config.workerHeapMb)
    const env = this.options.workerEnv !== undefined ? { env: this.options.workerEnv } : {}
    const worker = new Worker(WORKER_MAIN, { workerData: init, ...resourceLimits, ...env })
    const handle: WorkerHandle = { source, worker, pulse, ready: false, alive: true, finished: false, stepUsers: 0, stepDone: true, pauseSeq: 0, lastSeq: -1, beats: 0, beatMs: performance.now(), spawnedMs: performance.now(), waiting: new Set() }
    worker.on('message', (message: FromWorker) => {
      if (!handle.alive) return
      switch (message.type) {
        case 'ready':
          handle.ready = true
          break
        case 'snapshot':
          handle.lastSeq = message.snapshot.seq
          this.options.onSnapshot(message.snapshot)
          break
        case 'finished':
          handle.finished = true
          break
        case 'step-done':
          handle.stepDone = true
          break
        case 'applied':
          handle.pauseSeq = Math.max(handle.pauseSeq, message.seq)
          break
        case 'fatal':
          handle.alive = false
          this.fail(new TestLoadError(message.message, message.stack))
          break
        case 'crashed':
          this.end(handle, 'WorkerCrashed', `crashed on ${message.message}${atLine(message.stack)}`, message.cut)
          return
      }
      tell(handle, message)
    })
    worker.on('error', (err: Error & { code?: string }) => {
      if (err.code === 'ERR_WORKER_OUT_OF_MEMORY') {
        const limit = config.workerHeapMb !== undefined ? ` (--worker-heap ${config.workerHeapMb})` : ''
        this.end(handle, 'WorkerOutOfMemory', `ran out of memory${limit}: the test keeps too much (responses, arrays…) or the worker has too many users`)
      } else {
        this.end(handle, 'WorkerCrashed', `crashed: ${err.message}${atLine(err.stack ?? '')}`)
      }
    })
    worker.on('exit', (code) => {
      if (handle.finished) handle.alive = false
      this.end(handle, 'WorkerCrashed', `exited unexpectedly (code ${code})`)
    })
    return handle
  }

  /** Ends a worker that is stuck, crashed or out of time: its runs in progress (`cut`, per test) are counted as errors. */
  private end(h: WorkerHandle, kind: string, why: string, cut = h.pulse.inFlight()): void {
    if (!h.alive || h.finished) return
    h.alive = false
    void h.worker.terminate()
    if (!h.ready) {
      // It never started its share: unless the run was stopped meanwhile, the test cannot run
      // here (as when setUpClass throws).
      if (this.stopped) tell(h, 'gone')
      else {
        this.fail(new TestLoadError(`${h.source} ${why}`, ''))
        tell(h, { type: 'fatal', message: why, stack: '' })
      }
      return
    }
    // The worker's last word for the run: its cut runs, as errors, in a final snapshot of its own.
    const recorder = new Recorder({ source: h.source })
    recorder.setStep(this.step)
    let runs = 0
    const { tests } = this.options.config
    cut.forEach((n, i) => {
      const label = `${tests[i]!.className}.${tests[i]!.methodName}`
      for (let k = 0; k < n; k++) recorder.recordTest('error', label, { kind, message: `the run was cut: ${h.source} ${why}`, stack: '' })
      runs += n
    })
    this.options.onSnapshot({ ...recorder.snapshot(true), seq: h.lastSeq + 1 })
    if (kind !== 'Interrupted') this.lost.push(`${h.source} ${why}; ${runs} test run${runs === 1 ? '' : 's'} in progress cut (${kind} errors)`)
    tell(h, 'gone')
  }

  /** Ends workers whose heartbeat has not moved for `stuckAfterMs`. */
  private checkPulses(): void {
    const now = performance.now()
    // This thread was itself held up (a GC pause, a busy machine): no worker is blamed for it.
    const heldUp = now - this.lastCheckMs > 4 * PULSE_MS
    this.lastCheckMs = now
    const limitMs = stuckAfterMs(this.options.config.testTimeoutMs)
    for (const h of this.handles) {
      const beats = h.pulse.beats()
      if (!h.ready) {
        // Booting, loading the test, setUpClass (bounded by --test-timeout): a slow machine's
        // start-up is not a stuck worker, but it does not take for ever either.
        if (h.alive && now - h.spawnedMs > READY_LIMIT_MS) this.end(h, 'WorkerStuck', `did not load the test and run setUpClass within ${READY_LIMIT_MS / 1000} s`)
        h.beatMs = now
      } else if (beats !== h.beats || heldUp) {
        h.beats = beats
        h.beatMs = now
      } else if (h.alive && now - h.beatMs > limitMs) {
        this.end(h, 'WorkerStuck', `was stuck in synchronous code for ${(limitMs / 1000).toFixed(0)} s (a loop that never awaits?): ended`)
      }
    }
  }

  private post(handle: WorkerHandle, message: ToWorker): void {
    if (!handle.alive) return
    try {
      handle.worker.postMessage(message)
    } catch {
      // The worker is gone; its exit handler reports why.
    }
  }

  /**
   * Sends (optionally) to each live worker and waits until each answers with a matching message
   * or is gone; rejects when one sends `fatal`.
   */
  private async all(match: (m: FromWorker) => boolean, send?: (h: WorkerHandle, i: number) => void): Promise<void> {
    const waits = this.handles.map((h, i) => {
      if (!h.alive) return Promise.resolve()
      return new Promise<void>((resolve, reject) => {
        const waiter = (m: FromWorker | 'gone'): void => {
          if (m === 'gone') {
            h.waiting.delete(waiter)
            resolve()
          } else if (m.type === 'fatal') {
            h.waiting.delete(waiter)
            reject(this.failure ?? new TestLoadError(m.message, m.stack))
          } else if (match(m)) {
            h.waiting.delete(waiter)
            resolve()
          }
        }
        h.waiting.add(waiter)
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

/** Hands a worker's message (or its loss) to everyone waiting on it. */
function tell(h: WorkerHandle, message: FromWorker | 'gone'): void {
  for (const waiter of [...h.waiting]) waiter(message)
}

/** ` (at file:line:col)` from a user stack's first frame, or ''. */
function atLine(stack: string): string {
  const frame = /^\s+at (?:.*\()?([^()\s]+:\d+:\d+)\)?\s*$/m.exec(stack)
  return frame?.[1] !== undefined ? ` (at ${frame[1]})` : ''
}
