import { UsageError } from '../errors.js'
import { isTestCaseClass, testMethodNames, type TestCase } from './test-case.js'
import type { TestAddress } from './resolve.js'

/** One test to run: a TestCase class exported by the module, and one of its methods. */
export interface SelectedTest {
  className: string
  methodName: string
}

/**
 * Picks the tests an address names in a loaded module, with messages that list what exists
 * when the name is wrong.
 */
export function selectTests(moduleExports: Record<string, unknown>, address: TestAddress, label: string): SelectedTest[] {
  const classes = Object.entries(moduleExports).filter((entry): entry is [string, typeof TestCase] => isTestCaseClass(entry[1]))
  const classNames = classes.map(([name]) => name)

  if (address.className === undefined) {
    const tests = classes.flatMap(([className, cls]) => testMethodNames(cls).map((methodName) => ({ className, methodName })))
    if (tests.length === 0) {
      throw new UsageError(
        classes.length === 0
          ? `${label} exports no TestCase class`
          : `no test methods (named test…) in ${classNames.join(', ')} of ${label}`,
        "export a class that extends TestCase from 'loads-runner', with methods named test_…",
        'LOADS_ERR_NO_TESTS',
      )
    }
    return tests
  }

  const className = address.className
  const value = moduleExports[className]
  if (value === undefined) {
    throw new UsageError(
      `class '${className}' not found in ${label}; ${classNames.length ? `its TestCase classes: ${classNames.join(', ')}` : 'it exports no TestCase class'}`,
      'check the spelling, and that the class is exported',
      'LOADS_ERR_CLASS_NOT_FOUND',
    )
  }
  if (!isTestCaseClass(value)) {
    throw new UsageError(
      `'${className}' in ${label} is not a TestCase (it must extend TestCase from 'loads-runner')`,
      undefined,
      'LOADS_ERR_NOT_A_TESTCASE',
    )
  }
  if (address.methodName === undefined) {
    const names = testMethodNames(value)
    if (names.length === 0) throw new UsageError(`${className} has no test methods (named test…)`, undefined, 'LOADS_ERR_NO_TESTS')
    return names.map((methodName) => ({ className, methodName }))
  }
  const method = (value.prototype as unknown as Record<string, unknown>)[address.methodName]
  if (typeof method !== 'function') {
    const names = testMethodNames(value)
    throw new UsageError(
      `method '${address.methodName}' not found in ${className}; its test methods: ${names.length ? names.join(', ') : '(none)'}`,
      undefined,
      'LOADS_ERR_METHOD_NOT_FOUND',
    )
  }
  return [{ className, methodName: address.methodName }]
}
