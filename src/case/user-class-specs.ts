/**
 * When a run's users are split between its classes, and each class's claim (`static weight`,
 * `static fixedCount`). Users are split when several classes are selected and either several
 * addresses were given (`shop.ts:Browser shop.ts:Buyer`) or a selected class declares a weight
 * or a fixed count. Otherwise — the original Loads — every user runs every selected test.
 */
import { UsageError } from '../errors.js'
import type { UserClassSpec } from '../load/user-classes.js'
import type { SelectedTest } from './select.js'
import { isTestCaseClass } from './test-case.js'

export function userClassSpecs(exports: Record<string, unknown>, tests: readonly SelectedTest[], severalAddresses: boolean): UserClassSpec[] | undefined {
  const names = [...new Set(tests.map((t) => t.className))]
  if (names.length < 2) return undefined
  const classes = names.map((name) => {
    const cls = exports[name]
    if (!isTestCaseClass(cls)) throw new Error(`${name} is not a TestCase`)
    return { name, cls }
  })
  const declares = classes.some(({ cls }) => cls.weight !== undefined || cls.fixedCount !== undefined)
  if (!severalAddresses && !declares) return undefined
  return classes.map(({ name, cls }) => {
    const weight = cls.weight ?? 1
    if (!Number.isInteger(weight) || weight < 1) throw new UsageError(`${name}.weight must be a whole number ≥ 1, got ${String(cls.weight)}`)
    const spec: UserClassSpec = { className: name, weight }
    if (cls.fixedCount !== undefined) {
      if (!Number.isInteger(cls.fixedCount) || cls.fixedCount < 0) throw new UsageError(`${name}.fixedCount must be a whole number ≥ 0, got ${String(cls.fixedCount)}`)
      spec.fixedCount = cls.fixedCount
    }
    return spec
  })
}
