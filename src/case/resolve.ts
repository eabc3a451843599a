import { existsSync, readdirSync, statSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { UsageError } from '../errors.js'

/** Where a test address points: a file, and optionally a class and a method in it. */
export interface TestAddress {
  /** Absolute path of the test module. */
  file: string
  className?: string
  methodName?: string
}

/** Extensions tried, in order, for `module` in `module.Class.method`. */
export const TEST_EXTENSIONS = ['.ts', '.mts', '.js', '.mjs'] as const

/** The package's own root (where `examples/` lives). */
export const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')

/**
 * Turns what the user typed into a file (+ class + method):
 * - `module.Class.method`, `pkg.module.Class` (dotted packages are folders, as in Python);
 * - `loads.examples.NAME…` → the examples shipped with Loads (as in the original README);
 * - `path/file.ts:Class.method`, `path/file.ts:Class`, `path/file.ts`; without the extension
 *   (`path/file:Class`), the extensions are tried as for a dotted module.
 */
export function resolveTestAddress(address: string, cwd: string): TestAddress {
  const spec = address.trim()
  if (spec === '') throw new UsageError('no test given', 'name one: loads-runner module.Class.method')

  const colon = spec.lastIndexOf(':')
  // `C:\…` on Windows has a colon at index 1: not a class separator.
  if (colon > 1) return fromFileAndMember(spec.slice(0, colon), spec.slice(colon + 1), cwd, spec)
  if (looksLikeFile(spec)) return fromFileAndMember(spec, '', cwd, spec)
  return fromDotted(spec, cwd)
}

function looksLikeFile(spec: string): boolean {
  return spec.includes('/') || spec.includes(path.sep) || TEST_EXTENSIONS.some((ext) => spec.endsWith(ext))
}

function fromFileAndMember(file: string, member: string, cwd: string, spec: string): TestAddress {
  const given = path.resolve(cwd, file)
  // `tests/api:Class` is `tests/api.ts:Class`, as `tests.api.Class` is: the extensions are tried.
  const tried = isFile(given) || path.extname(given) !== '' ? [given] : [given, ...TEST_EXTENSIONS.map((ext) => given + ext)]
  const abs = tried.find(isFile)
  if (abs === undefined && isFolder(given)) throw folderGiven(file, given)
  if (abs === undefined) {
    throw new UsageError(
      tried.length === 1 ? `test module not found: ${file} (looked for ${given})` : `test module not found: ${file}. Tried:\n${tried.map((t) => `  ${t}`).join('\n')}`,
      `check the path in '${spec}'`,
      'LOADS_ERR_MODULE_NOT_FOUND',
    )
  }
  const parts = member === '' ? [] : member.split('.')
  if (parts.length > 2 || parts.some((p) => p === '')) {
    throw new UsageError(`bad test address '${spec}'`, 'use path/file.ts:Class.method, path/file.ts:Class or path/file.ts')
  }
  return withMembers({ file: abs }, parts)
}

function fromDotted(spec: string, cwd: string): TestAddress {
  const parts = spec.split('.')
  if (parts.some((p) => p === '')) {
    throw new UsageError(`bad test address '${spec}'`, 'use module.Class.method (e.g. example.TestWebSite.test_something)')
  }
  const tried: string[] = []
  // The module is the longest prefix that names a file; at most Class.method may follow it.
  for (let n = parts.length; n >= Math.max(1, parts.length - 2); n--) {
    const moduleParts = parts.slice(0, n)
    for (const base of moduleBases(moduleParts, cwd)) {
      for (const ext of TEST_EXTENSIONS) {
        const candidate = base + ext
        tried.push(candidate)
        if (isFile(candidate)) return withMembers({ file: candidate }, parts.slice(n))
      }
    }
  }
  // `tests` or `tests.Class` where `tests` is a folder: say so, and what is in it.
  const folder = path.join(cwd, ...parts.slice(0, -1))
  for (const candidate of [path.join(cwd, ...parts), ...(parts.length > 1 ? [folder] : [])]) {
    if (isFolder(candidate)) throw folderGiven(path.relative(cwd, candidate) || '.', candidate)
  }
  throw new UsageError(
    `test module not found for '${spec}'. Tried:\n${tried.map((t) => `  ${t}`).join('\n')}`,
    'run loads-runner from the folder that holds the module, or give a path: path/file.ts:Class.method',
    'LOADS_ERR_MODULE_NOT_FOUND',
  )
}

function moduleBases(moduleParts: string[], cwd: string): string[] {
  const bases = [path.join(cwd, ...moduleParts)]
  // `loads.examples.test_blog` is the example shipped with the package, as in the original.
  if (moduleParts[0] === 'loads' && moduleParts.length > 1) bases.push(path.join(PACKAGE_ROOT, ...moduleParts.slice(1)))
  return bases
}

function withMembers(address: TestAddress, members: string[]): TestAddress {
  const [className, methodName] = members
  if (className !== undefined) address.className = className
  if (methodName !== undefined) address.methodName = methodName
  return address
}

function isFolder(p: string): boolean {
  try {
    return statSync(p).isDirectory()
  } catch {
    return false
  }
}

/** A folder given where a test module was expected: say so, and name a few modules in it. */
function folderGiven(given: string, abs: string): UsageError {
  let modules: string[] = []
  try {
    modules = readdirSync(abs)
      .filter((f) => TEST_EXTENSIONS.some((ext) => f.endsWith(ext)) && !f.endsWith('.d.ts'))
      .sort()
      .slice(0, 5)
  } catch {
    // Unreadable: no suggestion.
  }
  const example = modules[0] !== undefined ? `${path.join(given, modules[0])}:Class.method` : `${path.join(given, 'file.ts')}:Class.method`
  return new UsageError(
    `${given} is a folder, not a test module${modules.length > 0 ? ` (test modules in it: ${modules.join(', ')})` : ''}`,
    `name a file and its test: ${example}`,
    'LOADS_ERR_MODULE_IS_FOLDER',
  )
}

function isFile(p: string): boolean {
  return existsSync(p) && statSync(p).isFile()
}
