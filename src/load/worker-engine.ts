import { isAssertionError } from '../case/assertion-error.js'
import { userStack } from '../case/stack.js'
import { bindTestContext, TestCase } from '../case/test-case.js'
import { Session } from '../http/session.js'
import type { Recorder } from '../stats/recorder.js'
import type { Step } from './plan.js'
import type { RunConfig } from './run-config.js'

/** A step as one worker runs it: its share of the users. */
export interface WorkerStep extends Step {
  index: number
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

  constructor(
    private readonly config: RunConfig,
    moduleExports: Record<string, unknown>,
    private readonly recorder: Recorder,
  ) {
    this.classes = new Map()
    for (const t of config.tests) this.classes.set(t.className, moduleExports[t.className] as typeof TestCase)
    this.anyInsecureClass = [...this.classes.values()].some((cls) => cls.insecure === true)
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
      for (let i = 0; i < step.users; i++) users.push(this.runUser(i, step.hits ?? Infinity, deadline))
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
    for (const session of this.sessions) session.abort()
  }

  private async runUser(userIndex: number, hits: number, deadline: number): Promise<void> {
    const session = new Session({
      sink: this.recorder,
      timeoutMs: this.config.timeoutMs,
      // --insecure, or a selected class that says `static insecure = true` (e.g. from `curl -k`).
      insecure: this.config.insecure || this.anyInsecureClass,
      ...(this.config.serverUrl !== undefined ? { baseUrl: this.config.serverUrl } : {}),
    })
    this.sessions.add(session)
    const watch: RunWatch = { session, label: '', startMs: 0, cutOff: null }
    this.watches.add(watch)
    this.recorder.setActiveUsers(++this.activeUsers)
    try {
      const tests = this.bindTests(session, userIndex)
      for (let run = 0; run < hits && !this.stopping && Date.now() < deadline; run++) {
        for (const test of tests) {
          if (this.stopping) break
          await this.runOnce(test, session, watch)
        }
      }
    } finally {
      this.recorder.setActiveUsers(--this.activeUsers)
      this.watches.delete(watch)
      this.sessions.delete(session)
      await session.close()
    }
  }

  private bindTests(session: Session, userIndex: number): BoundTest[] {
    const instances = new Map<string, TestCase>()
    const recorder = this.recorder
    return this.config.tests.map(({ className, methodName }) => {
      let instance = instances.get(className)
      if (!instance) {
        const cls = this.classes.get(className) as typeof TestCase
        instance = new cls()
        bindTestContext(instance, { session, userIndex, incrCounter: (name, n) => recorder.incrCounter(name, n) })
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

function describe(value: unknown): string {
  try {
    return typeof value === 'string' ? JSON.stringify(value) : String(JSON.stringify(value) ?? value)
  } catch {
    return String(value)
  }
}

