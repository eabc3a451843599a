/**
 * Which of a user's tests one run executes: a pure choice, given the tests and the user's random
 * source. Per class, in the order the classes were selected:
 * - no weights (the original Loads): every test method, once, in order;
 * - weights (`@task(n)`, `static tasks`): one task, picked with probability weight / total;
 * - weights and `static sequential = true`: the next task in order, each repeated by its weight,
 *   round and round (Locust's SequentialTaskSet).
 */
import type { Random } from './random.js'

export interface Pickable {
  className: string
  /** Present when the class has task weights. */
  weight?: number
  sequential?: boolean
}

/** Returns a function that gives the tests of the user's next run (the same array when unweighted). */
export function taskPicker<T extends Pickable>(tests: readonly T[], random: Random): () => readonly T[] {
  if (tests.every((t) => t.weight === undefined)) return () => tests
  const byClass: T[][] = []
  for (const t of tests) {
    const last = byClass[byClass.length - 1]
    if (last !== undefined && last[0]!.className === t.className) last.push(t)
    else byClass.push([t])
  }
  const pickers = byClass.map((group) => classPicker(group, random))
  return () => pickers.flatMap((pick) => pick())
}

function classPicker<T extends Pickable>(tests: T[], random: Random): () => readonly T[] {
  if (tests.every((t) => t.weight === undefined)) return () => tests
  if (tests.some((t) => t.sequential === true)) {
    const cycle = tests.flatMap((t) => Array.from({ length: t.weight ?? 1 }, () => [t]))
    let next = 0
    return () => {
      const run = cycle[next]!
      next = (next + 1) % cycle.length
      return run
    }
  }
  // Cumulative weights: one draw, then the first task whose bound exceeds it.
  const bounds: number[] = []
  let total = 0
  for (const t of tests) bounds.push((total += t.weight ?? 1))
  const single = tests.map((t) => [t])
  return () => {
    const x = random() * total
    let i = 0
    while (i < bounds.length - 1 && x >= bounds[i]!) i++
    return single[i]!
  }
}

/** Test runs one run of a user makes: every unweighted test, one per weighted class. */
export function testsPerRun(tests: readonly Pickable[]): number {
  const weightedClasses = new Set(tests.filter((t) => t.weight !== undefined).map((t) => t.className))
  return tests.filter((t) => t.weight === undefined).length + weightedClasses.size
}
