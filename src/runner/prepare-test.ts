import path from 'node:path'
import { apiExportNames, installApi } from '../case/api.js'
import { bundleTest, importBundle, writeBundle, type TestBundle } from '../case/bundle.js'
import { resolveTestAddress } from '../case/resolve.js'
import { selectTests, type SelectedTest } from '../case/select.js'
import { userLocation, userStack } from '../case/stack.js'
import { UsageError } from '../errors.js'

/** A test ready to run: bundled, loaded once here to check it, and its tests selected. */
export interface PreparedTest {
  bundle: TestBundle
  /** Where this process wrote the bundle (workers import the same file). */
  bundleFile: string
  tests: SelectedTest[]
  /** The module's exports as loaded in this process (for `static serverUrl` and the like). */
  exports: Record<string, unknown>
}

/**
 * Resolves, bundles and loads a test address. Every way this can go wrong is the user's to fix,
 * so each throws a UsageError that says what and where (file:line for syntax and load errors).
 */
export async function prepareTest(address: string, cwd: string): Promise<PreparedTest> {
  const resolved = resolveTestAddress(address, cwd)
  const bundle = await bundleTest(resolved.file, apiExportNames())
  const bundleFile = writeBundle(bundle)
  const exports = await loadChecked(bundleFile, resolved.file, cwd)
  const tests = selectTests(exports, resolved, path.relative(cwd, resolved.file) || resolved.file)
  return { bundle, bundleFile, tests, exports }
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
