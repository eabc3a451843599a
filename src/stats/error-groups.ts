/**
 * Test errors grouped by (outcome, kind, message, test), with a bound on the number of groups:
 * a test that puts a request id in every message must not make memory grow with the run.
 */
import type { ErrorGroup } from './types.js'

/**
 * The message of a group that collects whatever no longer fits: one such group per outcome and
 * kind (`ECONNREFUSED`, `TypeError` …), so the kinds survive; its count is how many errors were
 * not kept apart. Past MAX_OVERFLOW_KINDS kinds, the kind is this too.
 */
export const OTHER_ERRORS = '(other errors)'

/** Overflow groups kept with their own kind; beyond, one `(other errors)` kind per outcome. */
export const MAX_OVERFLOW_KINDS = 50

/** Longest message and stack kept, in characters; the rest is cut. */
export const MAX_MESSAGE_CHARS = 500
export const MAX_STACK_CHARS = 4000

const cut = (s: string, n: number): string => (s.length > n ? `${s.slice(0, n)}…` : s)

export class ErrorGroups {
  readonly #groups = new Map<string, ErrorGroup>()
  #overflowKinds = 0

  /** @param maxGroups distinct groups kept; beyond it, counts go to an `(other errors)` group per outcome and kind. */
  constructor(readonly maxGroups = 100) {}

  get size(): number {
    return this.#groups.size
  }

  add(
    outcome: ErrorGroup['outcome'],
    kind: string,
    message: string,
    test: string,
    count: number,
    stack: string,
    hint?: string,
  ): void {
    message = cut(message, MAX_MESSAGE_CHARS)
    const key = `${outcome}\u0000${kind}\u0000${message}\u0000${test}`
    const group = this.#groups.get(key)
    if (group !== undefined) {
      group.count += count
      return
    }
    const overflow = message === OTHER_ERRORS
    if (overflow) {
      // A new overflow group (here, or merged from a worker's): one per kind, a bounded few.
      if (kind !== OTHER_ERRORS && this.#overflowKinds >= MAX_OVERFLOW_KINDS) return this.add(outcome, OTHER_ERRORS, OTHER_ERRORS, '', count, '')
      if (kind !== OTHER_ERRORS) this.#overflowKinds++
    } else if (this.#groups.size - this.#overflowKinds >= this.maxGroups) {
      this.add(outcome, kind, OTHER_ERRORS, '', count, '')
      return
    }
    this.#groups.set(key, {
      outcome,
      kind,
      message,
      test,
      count,
      stack: cut(stack, MAX_STACK_CHARS),
      ...(hint !== undefined && hint !== '' ? { hint: cut(hint, MAX_MESSAGE_CHARS) } : {}),
    })
  }

  addGroup(g: ErrorGroup): void {
    this.add(g.outcome, g.kind, g.message, g.test, g.count, g.stack, g.hint)
  }

  /** Copies of the groups, most frequent first. */
  list(): ErrorGroup[] {
    return [...this.#groups.values()].map((g) => ({ ...g })).sort((a, b) => b.count - a.count)
  }

  clear(): void {
    this.#groups.clear()
    this.#overflowKinds = 0
  }
}
