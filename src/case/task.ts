/**
 * Task weights, as Locust's `@task(3)`: a TestCase weights its test methods with the `task`
 * decorator (standard TC39 decorators, which esbuild compiles; TypeScript's legacy
 * `experimentalDecorators` work too) or with `static tasks = { test_browse: 5, test_buy: 1 }`.
 * With weights, each run of a user picks one task by weight (`static sequential = true`: the
 * tasks in order instead, each repeated by its weight, as Locust's SequentialTaskSet).
 */
import { UsageError } from '../errors.js'

/** Where the decorator marks a method with its weight. */
const WEIGHT: unique symbol = Symbol.for('loads-runner.task-weight')

type Method = (...args: never[]) => unknown

/**
 * `@task(5) async test_browse() {…}`: the method is a task of weight 5 (default 1). A decorated
 * method is a task whatever its name.
 */
export function task(weight = 1) {
  checkWeight(weight, '@task')
  return function decorate<T extends Method>(value: T, context: unknown, descriptor?: PropertyDescriptor): T | void {
    // Standard decorator: (method, context); legacy experimentalDecorators: (prototype, name, descriptor).
    if (descriptor !== undefined && typeof descriptor.value === 'function') {
      ;(descriptor.value as Record<symbol, unknown>)[WEIGHT] = weight
      return
    }
    if (typeof value === 'function' && typeof context === 'object' && context !== null && (context as { kind?: string }).kind === 'method') {
      ;(value as unknown as Record<symbol, unknown>)[WEIGHT] = weight
      return value
    }
    throw new UsageError('@task decorates a method of a TestCase: @task(3) async test_browse() {…}')
  }
}

/** The weight `@task` gave `method`, if any. */
export function decoratedWeight(method: unknown): number | undefined {
  if (typeof method !== 'function') return undefined
  const w = (method as unknown as Record<symbol, unknown>)[WEIGHT]
  return typeof w === 'number' ? w : undefined
}

export function checkWeight(weight: unknown, where: string): void {
  if (typeof weight !== 'number' || !Number.isInteger(weight) || weight < 1 || weight > 1_000_000) {
    throw new UsageError(`${where}: a weight is a whole number from 1 to 1000000, got ${String(weight)}`)
  }
}
