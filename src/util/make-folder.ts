/**
 * `mkdir -p` for folders the user names (`--dir`), one level at a time. Node's own recursive
 * mkdir loops for ever on a path it can never create (`/proc/x`: every attempt says ENOENT,
 * so it keeps "creating the parent" first); this one fails with the reason instead.
 */
import { mkdirSync, statSync } from 'node:fs'
import path from 'node:path'
import { UsageError } from '../errors.js'

/** Creates `dir` and its missing parents (mode `mode`), or throws a UsageError saying why not. */
export function makeFolder(dir: string, mode = 0o700, what = 'folder'): void {
  const missing: string[] = []
  let at = path.resolve(dir)
  for (;;) {
    let isDir: boolean
    try {
      isDir = statSync(at).isDirectory()
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      if (code !== 'ENOENT') throw folderError(dir, what, code === 'ENOTDIR' ? `${nearestFile(at)} is a file, not a folder` : (err as Error).message)
      missing.unshift(at)
      const parent = path.dirname(at)
      if (parent === at) throw folderError(dir, what, 'no such file system')
      at = parent
      continue
    }
    if (!isDir) throw folderError(dir, what, `${at} is a file, not a folder`)
    break
  }
  for (const d of missing) {
    try {
      mkdirSync(d, { mode })
    } catch (err) {
      const e = err as NodeJS.ErrnoException
      if (e.code === 'EEXIST') continue
      const why = e.code === 'ENOENT' ? `${path.dirname(d)} does not accept new folders` : e.code === 'EACCES' || e.code === 'EPERM' ? `no permission to create ${d}` : e.message
      throw folderError(dir, what, why)
    }
  }
}

function nearestFile(p: string): string {
  for (let at = p; path.dirname(at) !== at; at = path.dirname(at)) {
    try {
      if (statSync(at).isFile()) return at
    } catch {
      // Keep walking up.
    }
  }
  return p
}

function folderError(dir: string, what: string, why: string): UsageError {
  return new UsageError(`cannot create the ${what} ${dir}: ${why}`, 'choose a folder you can write to', 'LOADS_ERR_FOLDER')
}
