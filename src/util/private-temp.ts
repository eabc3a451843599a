/**
 * Loads' temporary files (test bundles, the cluster health test, an agent's received bundles)
 * live in one folder per user, `<os.tmpdir()>/loads-<uid>`, mode 0700: another user of the
 * machine can neither read a test's code nor plant files there, and two users never share a
 * folder one of them created. Each command makes its own folders inside and removes them when
 * it ends (`removeTempFolders`, called once by the CLI).
 */
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { LoadsError } from '../errors.js'

/** Folders this process made; removed by removeTempFolders(). */
const made = new Set<string>()

/** `<tmp>/loads-<uid>`, created 0700 if absent; refused if it is not this user's private folder. */
export function privateTempRoot(tmp = os.tmpdir()): string {
  const uid = typeof process.getuid === 'function' ? process.getuid() : undefined
  const root = path.join(tmp, `loads-${uid ?? os.userInfo().username}`)
  try {
    mkdirSync(root, { mode: 0o700 })
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw tempError(root, (err as Error).message)
  }
  const stat = lstatSync(root)
  if (!stat.isDirectory()) throw tempError(root, 'it is not a folder (a symbolic link or a file is there)')
  if (uid !== undefined && stat.uid !== uid) throw tempError(root, `it belongs to user ${stat.uid}, not to you (${uid})`)
  // Ours, but opened to others (a umask, a chmod): closed again.
  if ((stat.mode & 0o077) !== 0) chmodSync(root, 0o700)
  return root
}

/** A new folder of this process inside the private root (`prefix` + random), removed at the end. */
export function makeTempFolder(prefix: string): string {
  const dir = mkdtempSync(path.join(privateTempRoot(), prefix))
  made.add(dir)
  return dir
}

/** A named folder inside the private root (an agent's, kept across its runs), removed at the end. */
export function namedTempFolder(name: string): string {
  const dir = path.join(privateTempRoot(), name)
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  made.add(dir)
  return dir
}

/** Removes `dir` now (a run's folder once it ended). */
export function removeTempFolder(dir: string): void {
  made.delete(dir)
  rmSync(dir, { recursive: true, force: true })
}

/** Removes every folder this process made. Best effort: never throws. */
export function removeTempFolders(): void {
  for (const dir of made) {
    try {
      rmSync(dir, { recursive: true, force: true })
    } catch {
      // Already gone, or not ours to remove any more.
    }
  }
  made.clear()
}

function tempError(root: string, why: string): LoadsError {
  return new LoadsError('LOADS_ERR_TEMP', `cannot use ${root} for temporary files: ${why}`, {
    hint: 'remove it if it is stale, or point TMPDIR at a folder of your own (TMPDIR=$HOME/tmp loads-runner …)',
  })
}
