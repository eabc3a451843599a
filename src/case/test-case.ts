import { isDeepStrictEqual } from 'node:util'
import type { GrpcClient, GrpcOptions } from '../grpc/grpc-client.js'
import type { Session } from '../http/session.js'
import type { WsClient, WsOptions } from '../ws/ws-client.js'
import { AssertionError, show } from './assertion-error.js'
import { decoratedWeight } from './task.js'

/** What the engine hands a TestCase instance: its user's session and the recorder's counters. */
export interface TestContext {
  session: Session
  incrCounter(name: string, n: number): void
  /** The row of `--data` for this run, if any. */
  data?: unknown
  /** 0-based index of this virtual user within its worker (stable for the user's life). */
  userIndex: number
  /** Opens this user's WebSocket clients (recorded, closed when the user ends). */
  createWs(url: string, options?: WsOptions): WsClient
  /** Counts one evaluation of check `name`. */
  check(name: string, pass: boolean): void
  /** Runs `fn` as a group of this user (timed, its requests tagged). */
  group<T>(name: string, fn: () => T | Promise<T>): Promise<T>
  /** This user's gRPC client of a service (recorded, closed when the user ends). */
  grpc?(target: string, options: GrpcOptions): GrpcClient
  /** This user's uniform [0, 1) source: seeded with --seed. */
  random: () => number
  /** A config-file scenario's user: `process.env` with the scenario's `env` over it. */
  env?: Readonly<Record<string, string | undefined>>
  /** A config-file scenario's user: the scenario's name. */
  scenario?: string
  /** Waits `ms` on the engine's sleeper: a stop ends the wait early. */
  sleep?: (ms: number) => Promise<void>
}

/** `this.check(value, { name: predicate })`: each predicate is one named check of `value`. */
export type Checks<T> = Record<string, (value: T) => unknown>

const CONTEXT: unique symbol = Symbol('loads-runner.context')

/**
 * The base of every load test, with unittest semantics: each method whose name starts with
 * `test` is a test; `setUp`/`tearDown` run around every run of a test, `setUpClass`/
 * `tearDownClass` once per worker. One instance is created per virtual user, so instance fields
 * live as long as the user; `this.session` is that user's HTTP session (cookies, keep-alive).
 */
export class TestCase {
  /** Base URL for relative URLs in `this.session`; `--server-url` overrides it. */
  static serverUrl: string | undefined = undefined
  /** Skip TLS verification for this test's requests (`--insecure` does the same for the run). */
  static insecure: boolean | undefined = undefined
  /**
   * Task weights without a decorator (Locust's `tasks = {…}`): `{ test_browse: 5, test_buy: 1 }`.
   * With weights (here or `@task(n)`), each run of a user runs one task picked by weight.
   */
  static tasks: Record<string, number> | undefined = undefined
  /** With task weights: run the tasks in order, each repeated by its weight (Locust's SequentialTaskSet). */
  static sequential: boolean | undefined = undefined
  /** Several user classes in one run: this class's share of the users (Locust's `weight`, default 1). */
  static weight: number | undefined = undefined
  /** Several user classes in one run: exactly this many users of this class, before the weights share the rest (Locust's `fixed_count`). */
  static fixedCount: number | undefined = undefined

  /** @internal Set by the engine before `setUp`. */
  declare [CONTEXT]: TestContext

  /** This virtual user's HTTP session, like a Python Requests `Session`. */
  get session(): Session {
    return this[CONTEXT].session
  }

  /** The current `--data` row (undefined without `--data`). */
  get data(): unknown {
    return this[CONTEXT].data
  }

  /** 0-based index of this virtual user within its worker. */
  get userIndex(): number {
    return this[CONTEXT].userIndex
  }

  /**
   * The environment: `process.env`, with the run's `-e KEY=VALUE` and `--env-file` variables set
   * on every worker and every agent (k6's `__ENV`); a scenario's users see its `env` over them.
   */
  get env(): Readonly<Record<string, string | undefined>> {
    return this[CONTEXT]?.env ?? process.env
  }

  /** The name of the config-file scenario this user runs (`[scenario.NAME]`; k6's `exec.scenario.name`), else undefined. */
  get scenario(): string | undefined {
    return this[CONTEXT]?.scenario
  }

  /**
   * A uniform random number in [0, 1). With `--seed N`, each user draws from its own generator
   * seeded by N and its place in the run, so a run repeats its choices; without, Math.random.
   */
  random(): number {
    return this[CONTEXT].random()
  }

  /**
   * A WebSocket client of this virtual user (like the original's `create_ws`): `await
   * ws.connect()`, then `send`, `receive` (the next message, or one a predicate accepts) and
   * `close`, or listen to its `open` / `message` / `close` events. `url` is ws://, wss://, or
   * relative to the server URL. Traffic is recorded under method `WS` and the URL's path (or
   * `options.name`); a client still open when its user ends is closed with 1001.
   */
  createWs(url: string, options?: WsOptions): WsClient {
    return this[CONTEXT].createWs(url, options)
  }

  /**
   * A gRPC client of this virtual user for the service the .proto file(s) describe:
   * `this.grpc('127.0.0.1:50051', { proto: 'shop.proto' })`, then `unary`, `serverStream`,
   * `clientStream` and `bidi` calls by method name. `target` is `host:port`, `grpc://…` or
   * `grpcs://…` (TLS; `--insecure`, `--cacert`, `--cert`/`--key` and `--resolve` apply). Each call
   * is a hit of method `GRPC` named `/package.Service/Method` with its gRPC status; messages and
   * bytes are counted each way. Same target and options, same client (and connection) for the
   * user's life. Give proto paths as string literals, relative to the test file: they travel
   * with the test to workers and agents. Or `{ reflect: true }` instead of `proto`: the server's
   * reflection service describes the service, asked once per target per worker (not a hit).
   */
  grpc(target: string, options: GrpcOptions): GrpcClient {
    const open = this[CONTEXT].grpc
    if (open === undefined) throw new Error('this.grpc is available inside a run of loads-runner')
    return open(target, options)
  }

  /**
   * Pauses this user for `ms` milliseconds within a run (a think time between pages, as `loads
   * har --think recorded` writes it). It sleeps on the engine's sleeper, as think times between
   * runs do: a stop (Ctrl-C, `loads ctl stop`) ends it at once; the end of `-d` lets the run
   * finish it (bounded by --test-timeout). Outside a run it is a plain timer.
   */
  sleep(ms: number): Promise<void> {
    const sleep = this[CONTEXT]?.sleep
    return sleep !== undefined ? sleep(ms) : new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)))
  }

  /** Runs once per worker before any test of this class. */
  static setUpClass(): void | Promise<void> {}
  /** Runs once per worker after the last test of this class. */
  static tearDownClass(): void | Promise<void> {}
  /** Runs before every test run. An exception here counts the run as an error. */
  setUp(): void | Promise<void> {}
  /** Runs after every test run, even a failed one. */
  tearDown(): void | Promise<void> {}

  /**
   * Checks, as k6's `check()`: `this.check(res, { 'status is 200': (r) => r.status === 200 })`
   * runs each predicate on `value`, or `this.check('cart not empty', cart.length > 0)` takes the
   * condition itself. Each is counted as a pass or a failure under its name (summed over users,
   * workers and agents) and never ends the run; a predicate that throws is a failure. Returns true
   * when every check passed. Predicates are synchronous.
   */
  check<T>(value: T, checks: Checks<T>): boolean
  check(name: string, condition: unknown): boolean
  check(first: unknown, second: unknown): boolean {
    const context = this[CONTEXT]
    if (isChecks(second)) {
      let all = true
      for (const name of Object.keys(second)) {
        let pass: boolean
        try {
          pass = Boolean(second[name]!(first))
        } catch {
          pass = false
        }
        context.check(name, pass)
        all &&= pass
      }
      return all
    }
    if (typeof first !== 'string') throw new TypeError("this.check: give a name and a condition, or a value and { 'name': (value) => condition }")
    const pass = Boolean(second)
    context.check(first, pass)
    return pass
  }

  /**
   * A group (k6's `group()`, a Locust-style transaction): `await this.group('checkout', async () =>
   * { … })` times the whole block into the group's own histogram, counts it (and whether it threw:
   * an AssertionError is a failure, anything else an error; the exception goes on), and counts
   * the requests made inside under the group. Groups nest: `checkout::pay`. Returns `fn`'s result.
   */
  group<T>(name: string, fn: () => T | Promise<T>): Promise<T> {
    return this[CONTEXT].group(name, fn)
  }

  /** Adds `n` to the custom counter `name`; counters are summed over users, workers and agents. */
  incrCounter(name: string, n = 1): void {
    this[CONTEXT].incrCounter(name, n)
  }

  fail(message = 'test failed'): never {
    throw new AssertionError(message)
  }

  assertTrue(value: unknown, message?: string): void {
    if (!value) this.fail(withValues(message, `expected a truthy value, got ${show(value)}`))
  }

  assertFalse(value: unknown, message?: string): void {
    if (value) this.fail(withValues(message, `expected a falsy value, got ${show(value)}`))
  }

  /** Deep, strict equality (like unittest's assertEqual on lists and dicts). */
  assertEqual<T>(actual: T, expected: T, message?: string): void {
    if (!isDeepStrictEqual(actual, expected)) {
      this.fail(withValues(message, `${show(actual)} != ${show(expected)}`))
    }
  }

  assertNotEqual<T>(actual: T, expected: T, message?: string): void {
    if (isDeepStrictEqual(actual, expected)) {
      this.fail(withValues(message, `${show(actual)} == ${show(expected)}`))
    }
  }

  /** `member` in `container`: a substring, an array element, a Set/Map key, or an object key. */
  assertIn(member: unknown, container: unknown, message?: string): void {
    if (!contains(container, member)) this.fail(withValues(message, `${show(member)} not found in ${show(container)}`))
  }

  assertNotIn(member: unknown, container: unknown, message?: string): void {
    if (contains(container, member)) this.fail(withValues(message, `${show(member)} unexpectedly found in ${show(container)}`))
  }

  /** Passes for `null` and `undefined` (JavaScript's two Nones). */
  assertIsNone(value: unknown, message?: string): void {
    if (value !== null && value !== undefined) this.fail(withValues(message, `${show(value)} is not null or undefined`))
  }

  assertIsNotNone(value: unknown, message?: string): void {
    if (value === null || value === undefined) this.fail(withValues(message, `unexpectedly ${show(value)}`))
  }

  assertGreater(a: number | bigint | string, b: number | bigint | string, message?: string): void {
    if (!(a > b)) this.fail(withValues(message, `${show(a)} not greater than ${show(b)}`))
  }

  assertGreaterEqual(a: number | bigint | string, b: number | bigint | string, message?: string): void {
    if (!(a >= b)) this.fail(withValues(message, `${show(a)} not greater than or equal to ${show(b)}`))
  }

  assertLess(a: number | bigint | string, b: number | bigint | string, message?: string): void {
    if (!(a < b)) this.fail(withValues(message, `${show(a)} not less than ${show(b)}`))
  }

  assertLessEqual(a: number | bigint | string, b: number | bigint | string, message?: string): void {
    if (!(a <= b)) this.fail(withValues(message, `${show(a)} not less than or equal to ${show(b)}`))
  }

  assertRegex(text: string, pattern: RegExp | string, message?: string): void {
    const re = typeof pattern === 'string' ? new RegExp(pattern) : pattern
    if (!re.test(text)) this.fail(withValues(message, `regex ${String(re)} didn't match ${show(text)}`))
  }

  /**
   * Passes when `fn` throws (or its promise rejects) with an instance of `errorClass`;
   * returns the error so the test can look closer. Await it when `fn` is async.
   */
  async assertRaises<E extends Error>(
    errorClass: abstract new (...args: never[]) => E,
    fn: () => unknown,
    message?: string,
  ): Promise<E> {
    try {
      await fn()
    } catch (err) {
      if (err instanceof errorClass) return err
      this.fail(withValues(message, `expected ${errorClass.name} to be raised, got ${show(err)}`))
    }
    this.fail(withValues(message, `${errorClass.name} not raised`))
  }
}

function isChecks(value: unknown): value is Checks<unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false
  const values = Object.values(value)
  return values.length > 0 && values.every((v) => typeof v === 'function')
}

function contains(container: unknown, member: unknown): boolean {
  if (typeof container === 'string') return typeof member === 'string' && container.includes(member)
  if (Buffer.isBuffer(container)) {
    return (typeof member === 'string' || Buffer.isBuffer(member)) && container.includes(member)
  }
  if (Array.isArray(container)) return container.some((item) => isDeepStrictEqual(item, member))
  if (container instanceof Set || container instanceof Map) return container.has(member)
  if (container !== null && typeof container === 'object') {
    return (typeof member === 'string' || typeof member === 'symbol') && member in container
  }
  return false
}

/** @internal The engine's handle on an instance. */
export function bindTestContext(test: TestCase, context: TestContext): void {
  test[CONTEXT] = context
}

/** @internal */
export function isTestCaseClass(value: unknown): value is typeof TestCase {
  return typeof value === 'function' && value.prototype instanceof TestCase
}

/**
 * The test method names of a TestCase class, inherited ones included, in definition order:
 * methods named `test…`, and methods `@task` decorated whatever their names.
 */
export function testMethodNames(cls: typeof TestCase): string[] {
  const names: string[] = []
  const seen = new Set<string>()
  for (let proto = cls.prototype; proto && proto !== TestCase.prototype; proto = Object.getPrototypeOf(proto)) {
    for (const name of Object.getOwnPropertyNames(proto)) {
      if (seen.has(name) || name === 'constructor') continue
      const desc = Object.getOwnPropertyDescriptor(proto, name)
      if (!desc || typeof desc.value !== 'function') continue
      if (!name.startsWith('test') && decoratedWeight(desc.value) === undefined) continue
      seen.add(name)
      names.push(name)
    }
  }
  return names
}

/**
 * An assertion's message keeps the values, like unittest's longMessage: `msg: 500 != 200`, never
 * the bare `msg` that hides what was compared.
 */
function withValues(message: string | undefined, values: string): string {
  return message === undefined ? values : `${message}: ${values}`
}
