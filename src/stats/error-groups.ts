/**
 * Test errors grouped by (outcome, kind, message, test), with a bound on the number of groups:
 * a test that puts a request id in every message must not make memory grow with the run.
 */
import type { ErrorGroup } from './types.js'

/** The kind (and message) of the group that collects whatever no longer fits. */
export const OTHER_ERRORS = '(other errors)'

/** Longest message and stack kept, in characters; the rest is cut. */
export const MAX_MESSAGE_CHARS = 500
export const MAX_STACK_CHARS = 4000

const cut = (s: string, n: number): string => (s.length > n ? `${s.slice(0, n)}…` : s)

export class ErrorGroups {
  readonly #groups = new Map<string, ErrorGroup>()

  /** @param maxGroups distinct groups kept; beyond it, counts go to one `(other errors)` group per outcome. */
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
  ): void {
    message = cut(message, MAX_MESSAGE_CHARS)
    const key = `${outcome}\u0000${kind}\u0000${message}\u0000${test}`
    const group = this.#groups.get(key)
    if (group !== undefined) {
      group.count += count
      return
    }
    if (this.#groups.size >= this.maxGroups && kind !== OTHER_ERRORS) {
      this.add(outcome, OTHER_ERRORS, OTHER_ERRORS, '', count, '')
      return
    }
    this.#groups.set(key, {
      outcome,
      kind,
      message,
      test,
      count,
      stack: cut(stack, MAX_STACK_CHARS),
    })
  }

  addGroup(g: ErrorGroup): void {
    this.add(g.outcome, g.kind, g.message, g.test, g.count, g.stack)
  }

  /** Copies of the groups, most frequent first. */
  list(): ErrorGroup[] {
    return [...this.#groups.values()].map((g) => ({ ...g })).sort((a, b) => b.count - a.count)
  }

  clear(): void {
    this.#groups.clear()
  }
}
