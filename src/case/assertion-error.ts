import { inspect } from 'node:util'

/**
 * Raised by the TestCase assertion helpers. A test run that throws it (or node:assert's
 * AssertionError) counts as a failure; any other exception counts as an error.
 */
export class AssertionError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'AssertionError'
  }
}

/** True for our AssertionError, node:assert's, and chai-style ones: all mean "failure". */
export function isAssertionError(err: unknown): boolean {
  if (!(err instanceof Error)) return false
  return err.name === 'AssertionError' || (err as { code?: unknown }).code === 'ERR_ASSERTION'
}

/** A short, single-line rendering of a value for assertion messages. */
export function show(value: unknown): string {
  if (typeof value === 'string') {
    const s = value.length > 200 ? `${value.slice(0, 200)}… (${value.length} chars)` : value
    return JSON.stringify(s)
  }
  return inspect(value, { depth: 3, breakLength: Infinity, maxArrayLength: 20, maxStringLength: 200 })
}
