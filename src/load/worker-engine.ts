import { isAssertionError } from '../case/assertion-error.js'
import { userStack } from '../case/stack.js'
import { bindTestContext, TestCase, type TestContext } from '../case/test-case.js'
import type { ConnectionOptions } from '../http/origin-connection.js'
import { Session } from '../http/session.js'
import type { HitSink, WsSink } from '../stats/hit-sink.js'
import type { Recorder } from '../stats/recorder.js'
import { UserWebSockets } from '../ws/user-websockets.js'
import { DataFeed } from './data-feed.js'
import { LateSink } from './late-sink.js'
import { sampleThinkMs, type ThinkTime } from './load-shape.js'
import { runOpenStep } from './open-model.js'
import type { Step } from './plan.js'
import type { RunConfig } from './run-config.js'
import { Sleeper } from './sleeper.js'

/**
 * A step as one worker runs it: its share of the users (or of `--max-users` with a rate). Worker
 * `worker` of `workers` takes the step's users (and arrivals) worker, worker + workers, …, so
 * ramp-up starts and the arrival schedule interleave across workers as if one ran them all.
 */
export interface WorkerStep extends Step {
  index: number
  worker?: number
  workers?: number
  /** The step's users over all workers (default: `users`). */
  totalUsers?: number
  think?: ThinkTime
}

interface BoundTest {
  label: string
  /** The class's `static serverUrl`, unless --server-url overrides it. */
  baseUrl: string | undefined
  instance: TestCase
  method: () => unknown
  /** False when the class keeps TestCase's empty setUp / tearDown: the run skips the call. */
  hasSetUp: boolean
  hasTearDown: boolean
}

/** A user's test run in progress, as the watchdog sees it (one object per user, reused). */
interface RunWatch {
  session: Session
  label: string
  startMs: number
  /** Rejects the run in progress; null between runs. */
  cutOff: ((err: Error) => void) | null
}

/** One virtual user: its session, WebSockets, test instances (sharing one context) and run watch. */
interface User {
  session: Session
  sockets: UserWebSockets
  tests: BoundTest[]
  watch: RunWatch
  context: TestContext
  /** Open model: where the current run's lateness is set. */
  late: LateSink | undefined
}

/**
 * Runs virtual users inside one worker thread (or in-process): each user gets a Session and an
 * instance of each selected TestCase class, and loops over the tests. Exceptions in user code
 * are caught per run, classified and recorded; they never stop the engine.
 */
export class WorkerEngine {
  private stopping = false
  private readonly sessions = new Set<Session>()
  private readonly classes: Map<string, typeof TestCase>
  private readonly setUpDone = new Set<typeof TestCase>()
  private activeUsers = 0
  /** One per running user: `--test-timeout` is enforced by one timer for all, not one per run. */
  private readonly watches = new Set<RunWatch>()
  private watchdog: NodeJS.Timeout | undefined
  private readonly anyInsecureClass: boolean
  private readonly users = new Set<User>()
  /** Ramp-up delays, think times and the arrival schedule: all cut short by stop(). */
  private readonly sleeper = new Sleeper()
  private readonly data: DataFeed | undefined
  private readonly connection: ConnectionOptions

  /** @param dataCounter `--data` round-robin position, shared by the engine's workers. */
  constructor(
    private readonly config: RunConfig,
    moduleExports: Record<string, unknown>,
    private readonly recorder: Recorder,
    dataCounter?: SharedArrayBuffer,
  ) {
    this.classes = new Map()
    for (const t of config.tests) this.classes.set(t.className, moduleExports[t.className] as typeof TestCase)
    this.anyInsecureClass = [...this.classes.values()].some((cls) => cls.insecure === true)
    this.data = config.data !== undefined ? new DataFeed(config.data, dataCounter && new Int32Array(dataCounter), config.shard) : undefined
    this.connection = connectionOptions(config, this.anyInsecureClass)
  }

  /** `setUpClass` of every selected class, once per worker. A failure ends the run. */
  async setUpClasses(): Promise<void> {
    for (const cls of new Set(this.classes.values())) {
      await cls.setUpClass()
      this.setUpDone.add(cls)
    }
  }

  /** `tearDownClass` for every class whose setUpClass ran; errors are recorded, not thrown. */
  async tearDownClasses(): Promise<void> {
    for (const cls of this.setUpDone) {
      try {
        await cls.tearDownClass()
      } catch (err) {
        this.recordOutcome(`${cls.name}.tearDownClass`, err)
      }
    }
  }

  /** Runs `users` users to completion (or until stopped). */
  async runStep(step: WorkerStep): Promise<void> {
    this.recorder.setStep(step.index)
    if (this.stopping || step.users === 0) return
    const deadline = step.durationMs !== undefined ? Date.now() + step.durationMs : Infinity
    const users: Promise<void>[] = []
    const limitMs = this.config.testTimeoutMs
    // Checked a few times per timeout: a run is cut off at most ~10% (and ≤ 1 s) late.
    this.watchdog ??= setInterval(() => this.cutOffLateRuns(), Math.min(1000, Math.max(5, limitMs / 10)))
    try {
      if (step.rate !== undefined) await this.runArrivals(step)
      const worker = step.worker ?? 0
      const workers = step.workers ?? 1
      const total = step.totalUsers ?? step.users
      for (let i = 0; i < step.users && step.rate === undefined; i++) {
        const stepUser = worker + i * workers
        const startInMs = step.rampUpMs !== undefined ? (stepUser * step.rampUpMs) / total : 0
        const user = this.runUser(i, step.hits ?? Infinity, deadline, { startInMs, stepUser, total, think: step.think })
        // Promise.all below reports a failure; this keeps one from counting as unhandled meanwhile.
        user.catch(() => {})
        users.push(user)
        // Users without a ramp-up start together, but not in one synchronous loop: the event loop
        // turns between two starts, so a user's connect completes and its request leaves before the
        // next users are set up. In one loop, the first request of every user waited for all the
        // others' set-up (sessions, test instances, cold code): 20-30 ms for 100 users, counted in
        // those hits' latency though neither the network nor the server took it.
        if (startInMs === 0 && i + 1 < step.users && !this.stopping) await new Promise<void>((resolve) => setImmediate(resolve))
      }
      await Promise.all(users)
    } finally {
      clearInterval(this.watchdog)
      this.watchdog = undefined
    }
  }

  private cutOffLateRuns(): void {
    const limitMs = this.config.testTimeoutMs
    const now = performance.now()
    for (const watch of this.watches) {
      const cutOff = watch.cutOff
      if (cutOff === null || now - watch.startMs < limitMs) continue
      watch.cutOff = null
      watch.session.abort()
      cutOff(new TestTimeoutError(`${watch.label} did not settle within ${limitMs} ms: cut off`))
    }
  }

  /** Stop: no new runs start, in-flight requests are aborted (and still recorded). */
  stop(): void {
    this.stopping = true
    this.sleeper.wakeAll()
    for (const session of this.sessions) session.abort()
    for (const user of this.users) user.sockets.terminateAll()
  }

  /**
   * A closed-model user: starts `startInMs` into the step (ramp-up), runs `hits` times or until
   * the deadline, and waits a think time between two runs.
   */
  private async runUser(
    userIndex: number,
    hits: number,
    deadline: number,
    shape: { startInMs: number; stepUser: number; total: number; think: ThinkTime | undefined },
  ): Promise<void> {
    if (shape.startInMs > 0) await this.sleeper.sleep(Math.min(shape.startInMs, deadline - Date.now()))
    if (this.stopping || Date.now() >= deadline) return
    const user = this.createUser(userIndex, this.recorder)
    this.recorder.setActiveUsers(++this.activeUsers)
    try {
      if (this.data?.mode === 'unique') user.context.data = this.data.forUser(shape.stepUser, shape.total)
      for (let run = 0; run < hits && !this.stopping && Date.now() < deadline; run++) {
        if (this.data?.mode === 'round-robin') user.context.data = this.data.next()
        for (const test of user.tests) {
          if (this.stopping) break
          await this.runOnce(test, user.session, user.watch)
        }
        if (shape.think !== undefined && run + 1 < hits) {
          await this.sleeper.sleep(Math.min(sampleThinkMs(shape.think), deadline - Date.now()))
        }
      }
    } finally {
      this.recorder.setActiveUsers(--this.activeUsers)
      await this.closeUser(user)
    }
  }

  /**
   * This worker's part of an open-model step: runs start on the schedule, each on an idle user
   * of a pool of at most `step.users`; hits are recorded with how late their run started.
   */
  private async runArrivals(step: WorkerStep): Promise<void> {
    const worker = step.worker ?? 0
    const workers = step.workers ?? 1
    const data = this.data
    const result = await runOpenStep(
      { rate: step.rate!, durationMs: step.durationMs!, worker, workers, capacity: step.users },
      {
        createUser: (poolIndex) => {
          const late = new LateSink(this.recorder)
          const user = this.createUser(poolIndex, late)
          if (data?.mode === 'unique') user.context.data = data.forUser(worker + poolIndex * workers, step.totalUsers ?? step.users)
          return user
        },
        run: async (user, lagMs) => {
          user.late!.lagUs = Math.round(lagMs * 1000)
          if (data?.mode === 'round-robin') user.context.data = data.next()
          for (const test of user.tests) {
            if (this.stopping) break
            await this.runOnce(test, user.session, user.watch)
          }
        },
        onBusy: (busy) => this.recorder.setActiveUsers(busy),
        now: () => performance.now(),
        stopping: () => this.stopping,
        timer: (ms) => this.sleeper.timer(ms),
      },
    )
    if (result.dropped > 0) this.recorder.recordDropped(result.dropped)
    await Promise.all(result.users.map((user) => this.closeUser(user)))
  }

  private createUser(userIndex: number, sink: HitSink & WsSink): User {
    const session = new Session({
      sink,
      timeoutMs: this.config.timeoutMs,
      ...this.connection,
      ...(this.config.serverUrl !== undefined ? { baseUrl: this.config.serverUrl } : {}),
    })
    const sockets = new UserWebSockets(() => ({ sink, connection: this.connection, timeoutMs: this.config.timeoutMs, baseUrl: session.baseUrl }))
    const context: TestContext = {
      session,
      userIndex,
      incrCounter: (name, n) => this.recorder.incrCounter(name, n),
      createWs: (url, options) => sockets.create(url, options),
    }
    const watch: RunWatch = { session, label: '', startMs: 0, cutOff: null }
    const user: User = { session, sockets, tests: this.bindTests(context), watch, context, late: sink instanceof LateSink ? sink : undefined }
    this.sessions.add(session)
    this.watches.add(watch)
    this.users.add(user)
    return user
  }

  private async closeUser(user: User): Promise<void> {
    this.users.delete(user)
    this.watches.delete(user.watch)
    this.sessions.delete(user.session)
    await Promise.all([user.sockets.closeAll(), user.session.close()])
  }

  private bindTests(context: TestContext): BoundTest[] {
    const instances = new Map<string, TestCase>()
    return this.config.tests.map(({ className, methodName }) => {
      let instance = instances.get(className)
      if (!instance) {
        const cls = this.classes.get(className) as typeof TestCase
        instance = new cls()
        // One context per user: `this.data` set on it reaches every class of the user.
        bindTestContext(instance, context)
        instances.set(className, instance)
      }
      const cls = this.classes.get(className) as typeof TestCase
      const baseUrl = this.config.serverUrl ?? cls.serverUrl
      const method = (instance as unknown as Record<string, () => unknown>)[methodName] as () => unknown
      const hasSetUp = instance.setUp !== TestCase.prototype.setUp
      const hasTearDown = instance.tearDown !== TestCase.prototype.tearDown
      return { label: `${className}.${methodName}`, baseUrl, instance, method, hasSetUp, hasTearDown }
    })
  }

  private async runOnce(test: BoundTest, session: Session, watch: RunWatch): Promise<void> {
    let error: unknown
    let failed = false
    if (test.baseUrl !== undefined) session.baseUrl = test.baseUrl
    try {
      if (test.hasSetUp) await test.instance.setUp()
      const result = test.method.call(test.instance)
      if (result instanceof Promise) {
        watch.label = test.label
        watch.startMs = performance.now()
        try {
          // The watchdog rejects this promise when the run takes too long; a late settle of the
          // abandoned `result` then finds it settled and changes nothing.
          await new Promise((resolve, reject) => {
            watch.cutOff = reject
            result.then(resolve, reject)
          })
        } finally {
          watch.cutOff = null
        }
      }
    } catch (err) {
      error = err
      failed = true
    }
    try {
      if (test.hasTearDown) await test.instance.tearDown()
    } catch (err) {
      if (!failed) {
        error = err
        failed = true
      }
    }
    if (!failed) this.recorder.recordTest('pass', test.label)
    else if (this.stopping) this.recorder.recordTest('error', test.label, { kind: 'Interrupted', message: 'the run was stopped while this test ran', stack: '' })
    else this.recordOutcome(test.label, error)
  }

  private recordOutcome(label: string, err: unknown): void {
    if (isAssertionError(err)) {
      const e = err as Error
      this.recorder.recordTest('failure', label, { kind: 'AssertionError', message: e.message, stack: userStack(e) })
      return
    }
    if (err instanceof Error) {
      const kind = (err as { kind?: unknown }).kind
      const name = typeof kind === 'string' ? kind : err.name || 'Error'
      this.recorder.recordTest('error', label, { kind: name, message: err.message, stack: userStack(err) })
      return
    }
    // `throw 'oops'`, `throw 42`, `throw undefined`: still an error, described as what it was.
    this.recorder.recordTest('error', label, { kind: 'NonError', message: `a non-Error value was thrown: ${describe(err)}`, stack: '' })
  }
}

/** A test run that did not settle in time (`--test-timeout`). */
export class TestTimeoutError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'TestTimeout'
  }
}

/** How the run's users connect: TLS (--insecure, or a class's `static insecure`), h2, pinned hosts. */
function connectionOptions(config: RunConfig, anyInsecureClass: boolean): ConnectionOptions {
  const options: ConnectionOptions = { insecure: config.insecure || anyInsecureClass }
  if (config.http2 === true) options.http2 = true
  if (config.ca !== undefined) options.ca = config.ca
  if (config.cert !== undefined) options.cert = config.cert
  if (config.key !== undefined) options.key = config.key
  if (config.resolve !== undefined) options.resolve = config.resolve
  return options
}

function describe(value: unknown): string {
  try {
    return typeof value === 'string' ? JSON.stringify(value) : String(JSON.stringify(value) ?? value)
  } catch {
    return String(value)
  }
}

