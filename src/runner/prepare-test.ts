import path from 'node:path'
import { apiExportNames, installApi } from '../case/api.js'
import { bundleTest, importBundle, writeBundle, type TestBundle } from '../case/bundle.js'
import { resolveTestAddress } from '../case/resolve.js'
import { selectTests, type SelectedTest } from '../case/select.js'
import { userClassSpecs } from '../case/user-class-specs.js'
import type { UserClassSpec } from '../load/user-classes.js'
import { userLocation, userStack } from '../case/stack.js'
import { UsageError } from '../errors.js'
import { makeTempFolder } from '../util/private-temp.js'

/** A test ready to run: bundled, loaded once here to check it, and its tests selected. */
export interface PreparedTest {
  bundle: TestBundle
  /** Where this process wrote the bundle (workers import the same file). */
  bundleFile: string
  tests: SelectedTest[]
  /** The module's exports as loaded in this process (for `static serverUrl` and the like). */
  exports: Record<string, unknown>
  /** Several user classes sharing the users (see case/user-class-specs.ts); absent: every user runs every test. */
  userClasses?: UserClassSpec[]
  /** For each address given (the first, then `moreAddresses`), the indices into `tests` it selected. */
  addressTests: number[][]
}

/**
 * Resolves, bundles and loads a test address. Every way this can go wrong is the user's to fix,
 * so each throws a UsageError that says what and where (file:line for syntax and load errors).
 */
export async function prepareTest(address: string, cwd: string, moreAddresses: readonly string[] = [], options: { scenarios?: boolean } = {}): Promise<PreparedTest> {
  const resolved = resolveTestAddress(address, cwd)
  const more = moreAddresses.map((a) => resolveTestAddress(a, cwd))
  const other = more.find((m) => m.file !== resolved.file)
  if (other !== undefined) {
    const what = options.scenarios === true ? "the scenarios' tests" : 'several test addresses'
    throw new UsageError(`${what} must name classes of one file: ${path.relative(cwd, resolved.file)} and ${path.relative(cwd, other.file)}`, 'export the classes from one module (it may import them from others)')
  }
  const bundle = await bundleTest(resolved.file, apiExportNames())
  // This user's private temp space, removed when the command ends.
  const bundleFile = writeBundle(bundle, makeTempFolder(`run-${process.pid}-`))
  const exports = await loadChecked(bundleFile, resolved.file, cwd)
  const label = path.relative(cwd, resolved.file) || resolved.file
  const tests: SelectedTest[] = []
  const seen = new Map<string, number>()
  const addressTests: number[][] = []
  for (const r of [resolved, ...more]) {
    const indices: number[] = []
    for (const t of selectTests(exports, r, label)) {
      const key = `${t.className}.${t.methodName}`
      let index = seen.get(key)
      if (index === undefined) {
        index = tests.push(t) - 1
        seen.set(key, index)
      }
      if (!indices.includes(index)) indices.push(index)
    }
    addressTests.push(indices)
  }
  // A scenario's users run its own tests: classes do not share users there.
  const userClasses = options.scenarios === true ? undefined : userClassSpecs(exports, tests, more.length > 0)
  return { bundle, bundleFile, tests, exports, addressTests, ...(userClasses !== undefined ? { userClasses } : {}) }
}

/** Imports a bundle in this process; an exception at load time becomes a UsageError with file:line. */
export async function loadChecked(bundleFile: string, file: string, cwd: string): Promise<Record<string, unknown>> {
  process.setSourceMapsEnabled(true)
  installApi()
  try {
    return await importBundle(bundleFile)
  } catch (err) {
    const e = err instanceof Error ? err : new Error(`a non-Error value was thrown: ${String(err)}`)
    const where = userLocation(e) ?? path.relative(cwd, file)
    throw new UsageError(`${where}: the test module failed to load: ${e.name}: ${e.message}\n${indent(userStack(e))}`, undefined, 'LOADS_ERR_TEST_LOAD')
  }
}

function indent(text: string): string {
  return text
    .split('\n')
    .slice(1)
    .map((l) => `  ${l.trim()}`)
    .join('\n')
}
