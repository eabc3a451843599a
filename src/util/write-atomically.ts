import { mkdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs'
import path from 'node:path'

/**
 * Writes `content` to `file` all at once: a temporary file beside it, renamed over it, so a
 * reader never sees half a file and a failure leaves nothing behind. A device or a pipe
 * (/dev/null, /dev/stdout, a FIFO) is written to directly, never renamed over — renaming over
 * /dev/null would replace the device with a regular file for every program on the machine.
 */
export function writeAtomically(file: string, content: string | Uint8Array): void {
  const existing = statSync(file, { throwIfNoEntry: false })
  if (existing && !existing.isFile()) {
    writeFileSync(file, content)
    return
  }
  mkdirSync(path.dirname(path.resolve(file)), { recursive: true })
  const tmp = `${file}.${process.pid}.tmp`
  try {
    writeFileSync(tmp, content)
    renameSync(tmp, file)
  } catch (err) {
    rmSync(tmp, { force: true })
    throw err
  }
}
