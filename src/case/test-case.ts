import { isDeepStrictEqual } from 'node:util'
import type { Session } from '../http/session.js'
import type { WsClient, WsOptions } from '../ws/ws-client.js'
import { AssertionError, show } from './assertion-error.js'

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
}

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
   * A WebSocket client of this virtual user (like the original's `create_ws`): `await
   * ws.connect()`, then `send`, `receive` (the next message, or one a predicate accepts) and
   * `close`, or listen to its `open` / `message` / `close` events. `url` is ws://, wss://, or
   * relative to the server URL. Traffic is recorded under method `WS` and the URL's path (or
   * `options.name`); a client still open when its user ends is closed with 1001.
   */
  createWs(url: string, options?: WsOptions): WsClient {
    return this[CONTEXT].createWs(url, options)
  }

  /** Runs once per worker before any test of this class. */
  static setUpClass(): void | Promise<void> {}
  /** Runs once per worker after the last test of this class. */
  static tearDownClass(): void | Promise<void> {}
  /** Runs before every test run. An exception here counts the run as an error. */
  setUp(): void | Promise<void> {}
  /** Runs after every test run, even a failed one. */
  tearDown(): void | Promise<void> {}

  /** Adds `n` to the custom counter `name`; counters are summed over users, workers and agents. */
  incrCounter(name: string, n = 1): void {
    this[CONTEXT].incrCounter(name, n)
  }

  fail(message = 'test failed'): never {
    throw new AssertionError(message)
  }

  assertTrue(value: unknown, message?: string): void {
    if (!value) this.fail(message ?? `expected a truthy value, got ${show(value)}`)
  }

  assertFalse(value: unknown, message?: string): void {
    if (value) this.fail(message ?? `expected a falsy value, got ${show(value)}`)
  }

  /** Deep, strict equality (like unittest's assertEqual on lists and dicts). */
  assertEqual<T>(actual: T, expected: T, message?: string): void {
    if (!isDeepStrictEqual(actual, expected)) {
      this.fail(message ?? `${show(actual)} != ${show(expected)}`)
    }
  }

  assertNotEqual<T>(actual: T, expected: T, message?: string): void {
    if (isDeepStrictEqual(actual, expected)) {
      this.fail(message ?? `${show(actual)} == ${show(expected)}`)
    }
  }

  /** `member` in `container`: a substring, an array element, a Set/Map key, or an object key. */
  assertIn(member: unknown, container: unknown, message?: string): void {
    if (!contains(container, member)) this.fail(message ?? `${show(member)} not found in ${show(container)}`)
  }

  assertNotIn(member: unknown, container: unknown, message?: string): void {
    if (contains(container, member)) this.fail(message ?? `${show(member)} unexpectedly found in ${show(container)}`)
  }

  /** Passes for `null` and `undefined` (JavaScript's two Nones). */
  assertIsNone(value: unknown, message?: string): void {
    if (value !== null && value !== undefined) this.fail(message ?? `${show(value)} is not null or undefined`)
  }

  assertIsNotNone(value: unknown, message?: string): void {
    if (value === null || value === undefined) this.fail(message ?? `unexpectedly ${show(value)}`)
  }

  assertGreater(a: number | bigint | string, b: number | bigint | string, message?: string): void {
    if (!(a > b)) this.fail(message ?? `${show(a)} not greater than ${show(b)}`)
  }

  assertGreaterEqual(a: number | bigint | string, b: number | bigint | string, message?: string): void {
    if (!(a >= b)) this.fail(message ?? `${show(a)} not greater than or equal to ${show(b)}`)
  }

  assertLess(a: number | bigint | string, b: number | bigint | string, message?: string): void {
    if (!(a < b)) this.fail(message ?? `${show(a)} not less than ${show(b)}`)
  }

  assertLessEqual(a: number | bigint | string, b: number | bigint | string, message?: string): void {
    if (!(a <= b)) this.fail(message ?? `${show(a)} not less than or equal to ${show(b)}`)
  }

  assertRegex(text: string, pattern: RegExp | string, message?: string): void {
    const re = typeof pattern === 'string' ? new RegExp(pattern) : pattern
    if (!re.test(text)) this.fail(message ?? `regex ${String(re)} didn't match ${show(text)}`)
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
      this.fail(message ?? `expected ${errorClass.name} to be raised, got ${show(err)}`)
    }
    this.fail(message ?? `${errorClass.name} not raised`)
  }
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

/** The test method names of a TestCase class, inherited ones included, in definition order. */
export function testMethodNames(cls: typeof TestCase): string[] {
  const names: string[] = []
  const seen = new Set<string>()
  for (let proto = cls.prototype; proto && proto !== TestCase.prototype; proto = Object.getPrototypeOf(proto)) {
    for (const name of Object.getOwnPropertyNames(proto)) {
      if (seen.has(name) || !name.startsWith('test')) continue
      seen.add(name)
      const desc = Object.getOwnPropertyDescriptor(proto, name)
      if (desc && typeof desc.value === 'function') names.push(name)
    }
  }
  return names
}
