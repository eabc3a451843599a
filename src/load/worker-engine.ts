import { isAssertionError } from '../case/assertion-error.js'
import { errorMessage } from '../case/error-message.js'
import { userStack } from '../case/stack.js'
import { bindTestContext, TestCase, type TestContext } from '../case/test-case.js'
import type { ConnectionOptions } from '../http/origin-connection.js'
import { ConnectionShare } from '../http/connection-share.js'
import { Session } from '../http/session.js'
import { TraceContext } from '../http/trace-context.js'
import type { HitSink, StreamSink, WsSink } from '../stats/hit-sink.js'
import type { ScenarioRecord } from '../stats/named-records.js'
import type { Recorder } from '../stats/recorder.js'
import type { Outcome } from '../stats/types.js'
import { UserWebSockets } from '../ws/user-websockets.js'
import { materializeProtoFiles, PROTO_FILES_EXPORT, type ProtoFiles } from '../grpc/proto-files.js'
import { UserGrpc } from '../grpc/user-grpc.js'
import { DataFeed } from './data-feed.js'
import { LateSink } from './late-sink.js'
import { sampleThinkMs, type ThinkTime } from './load-shape.js'
import { ClosedStep, type Seat } from './closed-step.js'
import type { EngineChange } from './control.js'
import { OpenControl, runOpenStep } from './open-model.js'
import type { Step } from './plan.js'
import type { RunConfig } from './run-config.js'
import { Sleeper } from './sleeper.js'
import { GroupTagSink, UserGroups } from './user-groups.js'
import { userRandom, type Random } from './random.js'
import { taskPicker } from './task-picker.js'
import { classAssignment, globalUser } from './user-classes.js'

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
  className: string
  /** Task weight and order (see task-picker.ts); absent for an unweighted class. */
  weight?: number
  sequential?: boolean
  label: string
  /** Index into `config.tests`. */
  index: number
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
  /** Rejects the phase in progress (setUp, the test, tearDown); null between phases. */
  cutOff: ((err: Error) => void) | null
  /** Set when a scale-down cut the run: it is counted as Interrupted, not as a failure. */
  ended?: boolean
}

/** A retired user's run still going this long after a scale-down is cut, ms (at most --test-timeout). */
export const SCALE_DOWN_GRACE_MS = 30_000

/** Told when a test run starts and ends (the engine counts the runs a dead worker cuts). */
export interface RunTally {
  runStarted(testIndex: number): void
  runEnded(testIndex: number): void
}

/** How long `tearDownClass` hooks get, all classes together, when a worker finishes, ms. */
export const TEARDOWN_CLASS_LIMIT_MS = 10_000

/** One virtual user: its session, WebSockets, test instances (sharing one context) and run watch. */
interface User {
  session: Session
  sockets: UserWebSockets
  grpc: UserGrpc
  tests: BoundTest[]
  watch: RunWatch
  context: TestContext
  /** Open model: where the current run's lateness is set. */
  late: LateSink | undefined
  /** This user's random choices (seeded with --seed). */
  random: Random
  /** The tests of the user's next run (all of them, or a task picked by weight). */
  pick: () => readonly BoundTest[]
  /** A scenario's user: its scenario's figures. */
  scenario: ScenarioRecord | undefined
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
  /** Steps running now: several at once when scenarios run side by side. */
  private runningSteps = 0
  private readonly anyInsecureClass: boolean
  private readonly users = new Set<User>()
  /** Several user classes: each step's class of every global user (load/user-classes.ts). */
  private readonly classPlans = new Map<number, Uint16Array>()
  /** Ramp-up delays, think times and the arrival schedule: all cut short by stop(). */
  private readonly sleeper = new Sleeper()
  private readonly data: DataFeed | undefined
  private readonly connection: ConnectionOptions
  /** Live control (docs/live-control.md): paused, users waiting to start a run, the step in progress. */
  private paused = false
  private readonly resumeWaiters = new Set<() => void>()
  private closedStep: ClosedStep | undefined
  private openControl: OpenControl | undefined
  /** Every open-model step running now (several when scenarios run side by side): pause and resume reach them all. */
  private readonly openControls = new Set<OpenControl>()

  /**
   * @param dataCounter `--data` round-robin position, shared by the engine's workers.
   * @param tally told of every run's start and end.
   * @param bundleDir the folder the test bundle was written to (removed when the run or the agent
   *   ends): a bundle's .proto files are written beside it, so they go with it.
   */
  constructor(
    private readonly config: RunConfig,
    moduleExports: Record<string, unknown>,
    private readonly recorder: Recorder,
    dataCounter?: SharedArrayBuffer,
    private readonly tally?: RunTally,
    private readonly bundleDir?: string,
  ) {
    this.classes = new Map()
    for (const t of config.tests) this.classes.set(t.className, moduleExports[t.className] as typeof TestCase)
    this.anyInsecureClass = [...this.classes.values()].some((cls) => cls.insecure === true)
    this.data = config.data !== undefined ? new DataFeed(config.data, dataCounter && new Int32Array(dataCounter), config.shard) : undefined
    this.connection = connectionOptions(config, this.anyInsecureClass)
    this.protoFiles = moduleExports[PROTO_FILES_EXPORT] as ProtoFiles | undefined
  }

  /** The .proto files that came inside the test bundle, if any (written to disk on first use). */
  private readonly protoFiles: ProtoFiles | undefined
  private protoRoot: string | undefined

  /** Where the test's relative .proto paths resolve: the bundle's files, written once per worker. */
  private grpcProtoRoot(): string {
    this.protoRoot ??= this.protoFiles !== undefined ? materializeProtoFiles(this.protoFiles, this.bundleDir) : process.cwd()
    return this.protoRoot
  }

  /**
   * `setUpClass` of every selected class, once per worker, each bounded by `--test-timeout`.
   * A failure (or a hook that does not settle in time) ends the run.
   */
  async setUpClasses(): Promise<void> {
    for (const cls of new Set(this.classes.values())) {
      await withinMs(cls.setUpClass(), this.config.testTimeoutMs, `${cls.name}.setUpClass did not settle within ${this.config.testTimeoutMs} ms (--test-timeout)`)
      this.setUpDone.add(cls)
    }
  }

  /**
   * `tearDownClass` for every class whose setUpClass ran; errors are recorded, not thrown. All of
   * them together get `limitMs`: a hook still running then is recorded as a TestTimeout error.
   */
  async tearDownClasses(limitMs = TEARDOWN_CLASS_LIMIT_MS): Promise<void> {
    const endMs = performance.now() + limitMs
    for (const cls of this.setUpDone) {
      const label = `${cls.name}.tearDownClass`
      try {
        const leftMs = Math.max(0, endMs - performance.now())
        await withinMs(cls.tearDownClass(), leftMs, `${label} did not settle within ${limitMs} ms (every tearDownClass together): cut off`)
      } catch (err) {
        this.recordOutcome(label, err)
      }
    }
  }

  /** Runs `users` users to completion (or until stopped). */
  async runStep(step: WorkerStep): Promise<void> {
    this.recorder.setStep(step.index)
    const deadline = step.durationMs !== undefined ? Date.now() + step.durationMs : Infinity
    if (this.stopping || (step.users === 0 && (step.rate !== undefined || deadline === Infinity))) return
    const limitMs = this.config.testTimeoutMs
    // Checked a few times per timeout: a run is cut off at most ~10% (and ≤ 1 s) late.
    this.watchdog ??= setInterval(() => this.cutOffLateRuns(), Math.min(1000, Math.max(5, limitMs / 10)))
    this.runningSteps++
    try {
      if (step.rate !== undefined) {
        const control = new OpenControl()
        control.paused = this.paused
        this.openControl = control
        this.openControls.add(control)
        try {
          await this.runArrivals(step, control)
        } finally {
          this.openControls.delete(control)
        }
        return
      }
      const worker = step.worker ?? 0
      const workers = step.workers ?? 1
      const total = step.totalUsers ?? step.users
      const shape = { users: step.users, worker, workers, total, rampUpMs: step.rampUpMs, deadline }
      const closed = new ClosedStep(
        shape,
        {
          runUser: (seat, startInMs) => this.runUser(seat, step.hits ?? Infinity, deadline, { startInMs, stepUser: worker + seat.slot * workers, total, think: step.think, step: step.index, scenario: step.scenario }),
          sleep: (ms) => this.sleeper.sleep(ms),
          stopping: () => this.stopping,
        },
        Math.min(SCALE_DOWN_GRACE_MS, limitMs),
      )
      this.closedStep = closed
      await closed.run()
    } finally {
      this.closedStep = undefined
      this.openControl = undefined
      if (--this.runningSteps === 0) {
        clearInterval(this.watchdog)
        this.watchdog = undefined
      }
    }
  }

  /**
   * A change to the run in progress, this worker's share already split by its engine: users or
   * rate for the step running now (ignored between steps), pause and resume for the whole run.
   */
  control(change: EngineChange): void {
    if (this.stopping) return
    if ('users' in change) this.closedStep?.scale(change.users)
    else if ('rate' in change) this.openControl?.setRate(change.rate, change.offset, change.stride)
    else if ('pause' in change) {
      this.paused = true
      for (const control of this.openControls) control.setPaused(true)
    } else {
      this.paused = false
      for (const control of this.openControls) control.setPaused(false)
      for (const resolve of this.resumeWaiters) resolve()
      this.resumeWaiters.clear()
    }
  }

  /** Waits while the run is paused (and the user is not retired, the engine not stopping). */
  private async whilePaused(seat: Seat): Promise<void> {
    while (this.paused && !this.stopping && !seat.retired) {
      await new Promise<void>((resolve) => {
        this.resumeWaiters.add(resolve)
        seat.wake = resolve
      })
      seat.wake = undefined
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

  /** Stop: no new runs start, in-flight requests are aborted (and still recorded), runs in progress end. */
  stop(): void {
    this.stopping = true
    this.sleeper.wakeAll()
    for (const resolve of this.resumeWaiters) resolve()
    this.resumeWaiters.clear()
    // Runs waiting on user promises that may never settle end now (recorded as Interrupted).
    for (const watch of this.watches) watch.cutOff?.(new Error('the run was stopped'))
    for (const session of this.sessions) session.abort()
    for (const user of this.users) user.sockets.terminateAll()
  }

  /**
   * A closed-model user: starts `startInMs` into the step (ramp-up), runs `hits` times or until
   * the deadline, and waits a think time between two runs.
   */
  private async runUser(
    seat: Seat,
    hits: number,
    deadline: number,
    shape: { startInMs: number; stepUser: number; total: number; think: ThinkTime | undefined; step: number; scenario: number | undefined },
  ): Promise<void> {
    if (shape.startInMs > 0) await this.wakeableSleep(seat, Math.min(shape.startInMs, deadline - Date.now()))
    if (this.stopping || seat.retired || Date.now() >= deadline) return
    const user = this.createUser(seat.slot, this.recorder, [shape.step, shape.stepUser], this.userClass(shape.step, shape.stepUser, shape.total), shape.scenario)
    seat.cut = () => {
      // The grace period after a scale-down is over: the run in progress ends now.
      user.watch.ended = true
      user.watch.cutOff?.(new Error('the user was ended by a scale-down'))
      user.session.abort()
      user.sockets.terminateAll()
    }
    this.recorder.setActiveUsers(++this.activeUsers)
    try {
      if (this.data?.mode === 'unique') user.context.data = this.data.forUser(shape.stepUser, shape.total)
      for (let run = 0; run < hits && !this.stopping && !seat.retired && Date.now() < deadline; run++) {
        // No await unless paused: a user's first request leaves in the turn it starts in.
        if (this.paused) await this.whilePaused(seat)
        if (this.stopping || seat.retired || Date.now() >= deadline) break
        if (this.data?.mode === 'round-robin') user.context.data = this.data.next()
        for (const test of user.pick()) {
          if (this.stopping || user.watch.ended === true) break
          await this.runOnce(test, user.session, user.watch, user.scenario)
        }
        if (shape.think !== undefined && run + 1 < hits && !seat.retired) {
          await this.wakeableSleep(seat, Math.min(sampleThinkMs(shape.think, user.random), deadline - Date.now()))
        }
      }
    } finally {
      seat.cut = undefined
      this.recorder.setActiveUsers(--this.activeUsers)
      await this.closeUser(user)
    }
  }

  /** A sleep that a scale-down (retiring the user) or a stop ends early. */
  private async wakeableSleep(seat: Seat, ms: number): Promise<void> {
    const timer = this.sleeper.timer(ms)
    seat.wake = timer.cancel
    await timer.done
    seat.wake = undefined
  }

  /**
   * This worker's part of an open-model step: runs start on the schedule, each on an idle user
   * of a pool of at most `step.users`; hits are recorded with how late their run started.
   */
  private async runArrivals(step: WorkerStep, control: OpenControl): Promise<void> {
    const worker = step.worker ?? 0
    const workers = step.workers ?? 1
    const data = this.data
    const result = await runOpenStep(
      { rate: step.rate!, durationMs: step.durationMs!, worker, workers, capacity: step.users },
      {
        createUser: (poolIndex) => {
          const late = new LateSink(this.recorder)
          const stepUser = worker + poolIndex * workers
          const user = this.createUser(poolIndex, late, [step.index, stepUser, 1], this.userClass(step.index, stepUser, step.totalUsers ?? step.users), step.scenario)
          if (data?.mode === 'unique') user.context.data = data.forUser(worker + poolIndex * workers, step.totalUsers ?? step.users)
          return user
        },
        run: async (user, lagMs) => {
          user.late!.lagUs = Math.round(lagMs * 1000)
          if (data?.mode === 'round-robin') user.context.data = data.next()
          for (const test of user.pick()) {
            if (this.stopping) break
            await this.runOnce(test, user.session, user.watch, user.scenario)
          }
        },
        onBusy: (busy) => this.recorder.setActiveUsers(busy),
        now: () => performance.now(),
        stopping: () => this.stopping,
        timer: (ms) => this.sleeper.timer(ms),
      },
      control,
    )
    if (result.dropped > 0) this.recorder.recordDropped(result.dropped)
    if (result.dropped > 0 && step.scenario !== undefined) this.recorder.scenario(this.config.scenarios![step.scenario]!.name).dropped += result.dropped
    await Promise.all(result.users.map((user) => this.closeUser(user)))
  }

  /** `place`: where the user is in the run (step, user of the step …), which seeds its random choices. */
  /**
   * With several user classes: the class of the step's user `stepUser` of `total` (this engine's
   * numbering), from the plan over the run's global users (load/user-classes.ts). Else undefined.
   */
  private userClass(step: number, stepUser: number, total: number): string | undefined {
    const classes = this.config.userClasses
    if (classes === undefined) return undefined
    const g = globalUser(stepUser, total, this.config.shard)
    let plan = this.classPlans.get(step)
    if (plan === undefined || plan.length !== g.total) {
      plan = classAssignment(g.total, classes)
      this.classPlans.set(step, plan)
    }
    return classes[plan[g.index]!]!.className
  }

  /** `scenario`: index into config.scenarios of the scenario the user runs (its tests, env and figures). */
  private createUser(userIndex: number, recordTo: HitSink & WsSink & StreamSink, place: number[], className?: string, scenario?: number): User {
    const random = userRandom(this.config.seed, this.config.shard?.index ?? 0, ...place)
    const groups = new UserGroups(this.recorder)
    const sc = scenario !== undefined ? this.config.scenarios?.[scenario] : undefined
    const record = sc !== undefined ? this.recorder.scenario(sc.name) : undefined
    const late = recordTo instanceof LateSink ? recordTo : undefined
    const sink = new GroupTagSink(recordTo, groups, this.recorder, record, late)
    const session = new Session({
      sink,
      inFlight: this.recorder.inFlight,
      timeoutMs: this.config.timeoutMs,
      ...(this.config.headersTimeoutMs !== undefined ? { headersTimeoutMs: this.config.headersTimeoutMs } : {}),
      ...(this.config.bodyTimeoutMs !== undefined ? { bodyTimeoutMs: this.config.bodyTimeoutMs } : {}),
      ...(this.config.maxBodyBytes !== undefined ? { maxBodyBytes: this.config.maxBodyBytes } : {}),
      ...(this.config.discardBodies === true ? { discardBodies: true } : {}),
      ...this.connection,
      ...(this.config.serverUrl !== undefined ? { baseUrl: this.config.serverUrl } : {}),
      ...(this.config.traceContext !== undefined ? { traceContext: new TraceContext(this.config.traceContext.runId, `${this.recorder.source}/${userIndex}`) } : {}),
    })
    const sockets = new UserWebSockets(() => ({ sink, connection: this.connection, timeoutMs: this.config.timeoutMs, baseUrl: session.baseUrl, currentTest: () => session.currentTest }))
    const grpc = new UserGrpc(() => ({ sink, tls: this.connection, timeoutMs: this.config.timeoutMs, protoRoot: this.grpcProtoRoot(), protoShownRoot: this.protoFiles?.sourceDir ?? process.cwd(), currentTest: () => session.currentTest }))
    const context: TestContext = {
      session,
      userIndex,
      incrCounter: (name, n) => this.recorder.incrCounter(name, n),
      check: (name, pass) => this.recorder.recordCheck(name, pass),
      group: (name, fn) => groups.run(name, fn),
      random,
      sleep: (ms) => this.sleeper.sleep(ms),
      createWs: (url, options) => sockets.create(url, options),
      grpc: (target, options) => grpc.client(target, options),
      ...(sc !== undefined ? { scenario: sc.name, env: sc.env !== undefined ? { ...process.env, ...sc.env } : process.env } : {}),
    }
    const watch: RunWatch = { session, label: '', startMs: 0, cutOff: null }
    const tests = this.bindTests(context, className, sc?.tests)
    const user: User = { session, sockets, grpc, tests, watch, context, late, random, pick: taskPicker(tests, random), scenario: record }
    this.sessions.add(session)
    this.watches.add(watch)
    this.users.add(user)
    return user
  }

  private async closeUser(user: User): Promise<void> {
    this.users.delete(user)
    this.watches.delete(user.watch)
    this.sessions.delete(user.session)
    user.grpc.closeAll()
    await Promise.all([user.sockets.closeAll(), user.session.close()])
  }

  /** The user's tests: every selected test, or its class's only (several user classes), or its scenario's. */
  private bindTests(context: TestContext, only?: string, scenarioTests?: readonly number[]): BoundTest[] {
    const instances = new Map<string, TestCase>()
    return this.config.tests.flatMap(({ className, methodName, weight, sequential }, index): BoundTest[] => {
      if (only !== undefined && className !== only) return []
      if (scenarioTests !== undefined && !scenarioTests.includes(index)) return []
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
      const task = weight !== undefined ? { weight, ...(sequential === true ? { sequential } : {}) } : {}
      return [{ className, ...task, label: `${className}.${methodName}`, index, baseUrl, instance, method, hasSetUp, hasTearDown }]
    })
  }

  private async runOnce(test: BoundTest, session: Session, watch: RunWatch, scenario?: ScenarioRecord): Promise<void> {
    let error: unknown
    let failed = false
    const startMs = performance.now()
    if (test.baseUrl !== undefined) session.baseUrl = test.baseUrl
    session.currentTest = test.label
    if (session.traceContext !== undefined) session.traceContext.test = test.label
    this.tally?.runStarted(test.index)
    try {
      if (test.hasSetUp) await this.bounded(watch, `${test.label}'s setUp`, test.instance.setUp())
      const result = test.method.call(test.instance)
      // A synchronous test adds no await (and no watch) to the run.
      if (result instanceof Promise) await this.bounded(watch, test.label, result)
    } catch (err) {
      error = err
      failed = true
    }
    try {
      if (test.hasTearDown) await this.bounded(watch, `${test.label}'s tearDown`, test.instance.tearDown())
    } catch (err) {
      if (!failed) {
        error = err
        failed = true
      }
    }
    this.tally?.runEnded(test.index)
    // The run's wall time, setUp and tearDown included: the method's own figures.
    const us = (performance.now() - startMs) * 1000
    let outcome: Outcome = 'pass'
    if (!failed) this.recorder.recordTest('pass', test.label, undefined, us)
    else if (this.stopping) {
      outcome = 'error'
      this.recorder.recordTest('error', test.label, { kind: 'Interrupted', message: 'the run was stopped while this test ran', stack: '' }, us)
    } else if (watch.ended === true) {
      outcome = 'error'
      this.recorder.recordTest('error', test.label, { kind: 'Interrupted', message: 'the user was ended by a scale-down while this test ran (its grace period was over)', stack: '' }, us)
    } else outcome = this.recordOutcome(test.label, error, us)
    scenario?.run(outcome, us)
  }

  /**
   * Waits for one phase of a run (setUp, the test, tearDown) under the watchdog: past
   * `--test-timeout` the phase is cut off with a TestTimeoutError and its session aborted.
   */
  private bounded(watch: RunWatch, label: string, phase: unknown): Promise<void> | undefined {
    if (!(phase instanceof Promise)) return undefined
    watch.label = label
    watch.startMs = performance.now()
    // One promise per phase, no async wrapper around it: this runs for every run of every user.
    return new Promise<void>((resolve, reject) => {
      // The watchdog (or a stop, or a scale-down) rejects it when the phase takes too long; a late
      // settle of the abandoned `phase` then finds it settled and changes nothing — nor the
      // watch, which a later phase may own by then.
      const cutOff = (err: Error): void => {
        if (watch.cutOff === cutOff) watch.cutOff = null
        reject(err)
      }
      watch.cutOff = cutOff
      phase.then(
        () => {
          if (watch.cutOff === cutOff) watch.cutOff = null
          resolve()
        },
        (err: unknown) => {
          if (watch.cutOff === cutOff) watch.cutOff = null
          reject(err)
        },
      )
    })
  }

  /** Records a run that threw, as a failure (AssertionError) or an error; returns which. */
  private recordOutcome(label: string, err: unknown, durationUs?: number): Outcome {
    if (isAssertionError(err)) {
      const e = err as Error
      this.recorder.recordTest('failure', label, { kind: 'AssertionError', message: errorMessage(e), stack: userStack(e) }, durationUs)
      return 'failure'
    }
    if (err instanceof Error) {
      const kind = (err as { kind?: unknown }).kind
      const name = typeof kind === 'string' ? kind : err.name || 'Error'
      // A LoadsError's advice ("is the server running …?") goes with its group to the summary.
      const hint = (err as { hint?: unknown }).hint
      const e = { kind: name, message: errorMessage(err), stack: userStack(err) }
      this.recorder.recordTest('error', label, typeof hint === 'string' ? { ...e, hint } : e, durationUs)
      return 'error'
    }
    // `throw 'oops'`, `throw 42`, `throw undefined`: still an error, described as what it was.
    this.recorder.recordTest('error', label, { kind: 'NonError', message: `a non-Error value was thrown: ${describe(err)}`, stack: '' }, durationUs)
    return 'error'
  }
}

/** A test run that did not settle in time (`--test-timeout`). */
export class TestTimeoutError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'TestTimeout'
  }
}

/** `value` awaited, or a TestTimeoutError after `ms`. */
async function withinMs(value: unknown, ms: number, message: string): Promise<void> {
  if (!(value instanceof Promise)) return
  let timer: NodeJS.Timeout | undefined
  try {
    await Promise.race([value, new Promise((_resolve, reject) => (timer = setTimeout(() => reject(new TestTimeoutError(message)), ms)))])
  } finally {
    clearTimeout(timer)
  }
}

/** How the run's users connect: TLS (--insecure, or a class's `static insecure`), h2, pinned hosts. */
function connectionOptions(config: RunConfig, anyInsecureClass: boolean): ConnectionOptions {
  const options: ConnectionOptions = { insecure: config.insecure || anyInsecureClass }
  if (config.http2 === true) options.http2 = true
  if (config.h2c === true) options.h2c = true
  // One per worker: its users resume each other's TLS sessions and share h2 connections.
  options.share = new ConnectionShare(config.h2Streams ?? 1)
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

