import { UsageError } from '../errors.js'
import { checkWeight, decoratedWeight } from './task.js'
import { isTestCaseClass, testMethodNames, type TestCase } from './test-case.js'
import type { TestAddress } from './resolve.js'

/** One test to run: a TestCase class exported by the module, and one of its methods. */
export interface SelectedTest {
  className: string
  methodName: string
  /** The task's weight, when its class weights its tasks (`@task(n)`, `static tasks`): each run then picks one. */
  weight?: number
  /** With weights: the class runs its tasks in order (`static sequential = true`). */
  sequential?: boolean
}

/**
 * A CommonJS test file (`module.exports = { T }`, `exports.T = …`) reaches us bundled as an ES
 * module whose only export is `default`, the `module.exports` object: say so, rather than "it
 * exports no TestCase class" about a file that plainly exports one.
 */
function refuseCommonJs(moduleExports: Record<string, unknown>, label: string): void {
  // The bundle adds exports of its own (`__loadsProtoFiles`).
  const keys = Object.keys(moduleExports).filter((k) => !k.startsWith('__loads'))
  const def = moduleExports['default']
  if (keys.length !== 1 || keys[0] !== 'default' || def === null || typeof def !== 'object') return
  const inside = Object.entries(def as Record<string, unknown>).filter(([, v]) => isTestCaseClass(v)).map(([k]) => k)
  throw new UsageError(
    `${label} is a CommonJS module (module.exports${inside.length > 0 ? ` = { ${inside.join(', ')} }` : ''}): test files are ES modules, their classes exported one by one`,
    "write `import { TestCase } from 'loads-runner'` and `export class MyTest extends TestCase { … }` (a .ts or .mjs file, or a .js file in a package with \"type\": \"module\")",
    'LOADS_ERR_COMMONJS_TEST',
  )
}

/**
 * Picks the tests an address names in a loaded module, with messages that list what exists
 * when the name is wrong.
 */
export function selectTests(moduleExports: Record<string, unknown>, address: TestAddress, label: string): SelectedTest[] {
  const classes = Object.entries(moduleExports).filter((entry): entry is [string, typeof TestCase] => isTestCaseClass(entry[1]))
  const classNames = classes.map(([name]) => name)
  if (classes.length === 0) refuseCommonJs(moduleExports, label)

  if (address.className === undefined) {
    const tests = classes.flatMap(([className, cls]) => classTests(className, cls, label))
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
    const tests = classTests(className, value, label)
    if (tests.length === 0) throw new UsageError(`${className} has no test methods (named test…)`, undefined, 'LOADS_ERR_NO_TESTS')
    return tests
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

/**
 * A whole class's tests: every test method in order, or — when the class weights its tasks —
 * the weighted tasks only (`static tasks` in its key order, else the `@task` methods in order).
 */
export function classTests(className: string, cls: typeof TestCase, label: string): SelectedTest[] {
  const names = testMethodNames(cls)
  const proto = cls.prototype as unknown as Record<string, unknown>
  let weights: [string, number][] | undefined
  if (cls.tasks !== undefined) {
    if (cls.tasks === null || typeof cls.tasks !== 'object' || Array.isArray(cls.tasks)) {
      throw new UsageError(`${className}.tasks in ${label} must map method names to weights: static tasks = { test_browse: 5, test_buy: 1 }`)
    }
    weights = Object.entries(cls.tasks)
    for (const [name, weight] of weights) {
      if (typeof proto[name] !== 'function') {
        throw new UsageError(`${className}.tasks in ${label} names '${name}', which is no method of ${className}; its test methods: ${names.join(', ') || '(none)'}`, undefined, 'LOADS_ERR_METHOD_NOT_FOUND')
      }
      checkWeight(weight, `${className}.tasks.${name}`)
    }
    if (weights.length === 0) throw new UsageError(`${className}.tasks in ${label} is empty`, undefined, 'LOADS_ERR_NO_TESTS')
  } else {
    const decorated = names.flatMap((name): [string, number][] => {
      const w = decoratedWeight(proto[name])
      return w === undefined ? [] : [[name, w]]
    })
    if (decorated.length > 0) weights = decorated
  }
  if (weights === undefined) return names.map((methodName) => ({ className, methodName }))
  const sequential = cls.sequential === true ? { sequential: true } : {}
  return weights.map(([methodName, weight]) => ({ className, methodName, weight, ...sequential }))
}
