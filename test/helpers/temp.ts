/**
 * Temporary folders for tests, removed after the test file that made them (test/helpers/temp-setup.ts
 * runs `removeTestTemps()` in an `afterAll` of every file). Use `testTemp()` wherever a test or a
 * helper needs a folder whose lifetime is the file's: the suite's end check
 * (test/global-temp-check.ts) fails on anything named `loads-*` left in the temporary directory.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'

const made = new Set<string>()

/** A new folder `<tmp>/<prefix>XXXXXX`, removed when the test file ends. */
export function testTemp(prefix: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix))
  made.add(dir)
  return dir
}

/** Removes a folder now or, if a process still writes into it, again at the file's end. */
export function trackTemp(dir: string): string {
  made.add(dir)
  return dir
}

/** Removes every folder `testTemp()`/`trackTemp()` named; what is already gone is skipped. */
export function removeTestTemps(): void {
  for (const dir of made) rmSync(dir, { recursive: true, force: true })
  made.clear()
}

/**
 * Removes the run folders (`<tmp>/loads-<uid>/run-<pid>-*`, src/runner/prepare-test.ts) of a
 * Loads process that was killed with SIGKILL: it cannot remove them itself. One that ended any
 * other way must have removed its own, and the suite's end check says so if it did not.
 */
export function removeKilledRunFolders(env: NodeJS.ProcessEnv | undefined, pid: number | undefined, signal: NodeJS.Signals | null): void {
  if (signal !== 'SIGKILL' || pid === undefined) return
  const tmp = env?.['TMPDIR'] ?? os.tmpdir()
  const uid = typeof process.getuid === 'function' ? process.getuid() : os.userInfo().username
  const own = path.join(tmp, `loads-${uid}`)
  let names: string[]
  try {
    names = readdirSync(own)
  } catch {
    return
  }
  for (const name of names) if (name.startsWith(`run-${pid}-`)) rmSync(path.join(own, name), { recursive: true, force: true })
}
