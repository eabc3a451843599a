import { closeSync, constants, fstatSync, openSync, readSync, realpathSync } from 'node:fs'
import { resolve } from 'node:path'
import { CurlParseError } from './curl-parse-error.js'

/** Files larger than this are refused: their bytes would be embedded in the generated test. */
export const DEFAULT_MAX_FILE_BYTES = 5 * 1024 * 1024

/** Places whose "files" are the machine's state, not a request body: never read at import. */
const SYSTEM_DIRS = ['/proc/', '/sys/', '/dev/']

/**
 * Reads a file a pasted curl command names (`-d @f`, `-F f=@…`, `-H @f`, `-T f`), for embedding
 * in the generated test. Only a regular file of at most `maxBytes` is read; devices, FIFOs,
 * sockets, directories and anything under /proc, /sys or /dev are refused with a message naming
 * the option and the file, so a copied command cannot make the importer hang (a FIFO), read
 * without end (/dev/zero) or embed the machine's secrets (/proc/self/environ). The file is opened
 * non-blocking and checked on the open descriptor, so it cannot be swapped between check and read.
 */
export function readLocalFile(path: string, flag: string, cwd: string, maxBytes = DEFAULT_MAX_FILE_BYTES): Buffer {
  const full = resolve(cwd, path)
  const refuse = (why: string): never => {
    throw new CurlParseError(`curl option ${flag} names ${JSON.stringify(path)}: ${why}`, {
      option: flag,
      hint: 'the importer reads only ordinary files, and embeds their content in the generated test',
    })
  }
  let real: string
  try {
    real = realpathSync(full)
  } catch (error) {
    const reason = error instanceof Error && 'code' in error ? String(error.code) : String(error)
    throw new CurlParseError(
      `curl option ${flag} needs the file ${JSON.stringify(path)} (${reason}): its content is embedded ` +
        'in the generated test, so it must exist when importing',
      { option: flag },
    )
  }
  if (SYSTEM_DIRS.some((dir) => `${real}/`.startsWith(dir))) refuse(`${real} is system state, not a file to send; refused`)
  let fd: number
  try {
    fd = openSync(real, constants.O_RDONLY | constants.O_NONBLOCK)
  } catch (error) {
    const reason = error instanceof Error && 'code' in error ? String(error.code) : String(error)
    return refuse(`cannot be opened (${reason})`)
  }
  try {
    const stat = fstatSync(fd)
    if (!stat.isFile()) refuse(`${kindOf(stat)}, not an ordinary file; refused`)
    if (stat.size > maxBytes) refuse(`${stat.size} bytes, over the import limit of ${maxBytes} bytes; refused`)
    // Read at most one byte past the limit, so a file growing meanwhile is still caught.
    const buffer = Buffer.alloc(Math.min(stat.size, maxBytes) + 1)
    let length = 0
    for (;;) {
      const n = readSync(fd, buffer, length, buffer.length - length, null)
      if (n === 0) break
      length += n
      if (length === buffer.length) break
    }
    if (length > maxBytes) refuse(`grew past the import limit of ${maxBytes} bytes while being read; refused`)
    return buffer.subarray(0, length)
  } finally {
    closeSync(fd)
  }
}

function kindOf(stat: import('node:fs').Stats): string {
  if (stat.isDirectory()) return 'a directory'
  if (stat.isFIFO()) return 'a FIFO (named pipe)'
  if (stat.isCharacterDevice() || stat.isBlockDevice()) return 'a device'
  if (stat.isSocket()) return 'a socket'
  return 'not a regular file'
}
