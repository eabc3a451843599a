import { closeSync, constants, fstatSync, openSync, readSync, realpathSync } from 'node:fs'

/** Places whose "files" are the machine's state, not input: never read by an importer. */
const SYSTEM_DIRS = ['/proc/', '/sys/', '/dev/']

/** Why a file was not read; the caller turns it into its own error. */
export class UnreadableFile extends Error {
  constructor(readonly reason: string) {
    super(reason)
    this.name = 'UnreadableFile'
  }
}

/**
 * Reads an ordinary file of at most `maxBytes`, or throws UnreadableFile saying why not: missing,
 * under /proc, /sys or /dev, a FIFO, device, socket or directory, or too large. Opened
 * non-blocking and checked on the open descriptor, so a FIFO never hangs the reader, /dev/zero is
 * never read without end, and the file cannot be swapped between the check and the read.
 */
export function readRegularFile(path: string, maxBytes: number): Buffer {
  let real: string
  try {
    real = realpathSync(path)
  } catch (error) {
    throw new UnreadableFile((error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message)
  }
  if (SYSTEM_DIRS.some((dir) => `${real}/`.startsWith(dir))) throw new UnreadableFile(`${real} is system state, not a file to import; refused`)
  let fd: number
  try {
    fd = openSync(real, constants.O_RDONLY | constants.O_NONBLOCK)
  } catch (error) {
    throw new UnreadableFile(`cannot be opened (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`)
  }
  try {
    const stat = fstatSync(fd)
    if (!stat.isFile()) throw new UnreadableFile(`${stat.isDirectory() ? 'a directory' : stat.isFIFO() ? 'a FIFO (named pipe)' : stat.isSocket() ? 'a socket' : 'a device'}, not an ordinary file; refused`)
    if (stat.size > maxBytes) throw new UnreadableFile(`${stat.size} bytes, over the import limit of ${maxBytes} bytes; refused`)
    // One byte past the limit, so a file growing meanwhile is caught too.
    const buffer = Buffer.alloc(Math.min(stat.size, maxBytes) + 1)
    let length = 0
    while (length < buffer.length) {
      const n = readSync(fd, buffer, length, buffer.length - length, null)
      if (n === 0) break
      length += n
    }
    if (length > maxBytes) throw new UnreadableFile(`grew past the import limit of ${maxBytes} bytes while being read; refused`)
    return buffer.subarray(0, length)
  } finally {
    closeSync(fd)
  }
}
