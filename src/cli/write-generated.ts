import path from 'node:path'
import { UsageError } from '../errors.js'
import { writeAtomically } from '../util/write-atomically.js'
import type { CliIO } from './cli-io.js'

/**
 * Writes a generated test module to `file` (relative to the CLI's cwd) all at once: a temporary
 * file renamed over the target, so a failure never leaves half a module behind. Returns the
 * absolute path.
 */
export function writeGenerated(file: string, code: string, io: Pick<CliIO, 'cwd'>): string {
  if (!/\.m?ts$/.test(file)) throw new UsageError(`-o ${file}: the generated test is TypeScript; name it something.ts`)
  const target = path.resolve(io.cwd, file)
  try {
    writeAtomically(target, code)
  } catch (err) {
    throw new UsageError(`cannot write ${file}: ${(err as Error).message}`)
  }
  return target
}

/** The command line that runs a generated module, quoted for a POSIX shell when needed. */
export function runHint(file: string, io: Pick<CliIO, 'cwd'>): string {
  const shown = path.relative(io.cwd, path.resolve(io.cwd, file)) || file
  return `loads-runner ${/^[\w./-]+$/.test(shown) ? shown : `'${shown.replace(/'/g, `'\\''`)}'`} -u 10 -c 100`
}

/** Prints warnings from an importer, one `warning:` line each, on stderr. */
export function warner(io: Pick<CliIO, 'stderr'>): (message: string) => void {
  return (message) => io.stderr.write(`warning: ${message}\n`)
}

/** Class and method names must be identifiers: said as a usage error, before anything is generated. */
export function checkIdentifier(flag: string, name: string): string {
  if (!/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(name)) throw new UsageError(`${flag} ${JSON.stringify(name)} is not a JavaScript identifier`)
  return name
}

/** An http(s) base URL, or a usage error naming the flag. */
export function checkBaseUrl(flag: string, url: string): string {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new UsageError(`${flag} expects an http:// or https:// URL: got '${url}'`)
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new UsageError(`${flag} expects an http:// or https:// URL: got '${url}'`)
  return url
}
