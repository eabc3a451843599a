import { InvalidArgumentError } from 'commander'
import { parseByteSize } from '../load/byte-size.js'
import { parseDuration } from '../load/duration.js'

/** Commander argument parsers: each turns the user's text into a value once, or says why not. */

export function durationMs(flag: string) {
  return throughCommander(parseDuration, flag)
}

/** A size in bytes: `1048576`, `500kB`, `64MB`, `64MiB`, `1GiB` (0 allowed). */
export function byteSize(flag: string) {
  return throughCommander(parseByteSize, flag)
}

/** `parse(value, flag)` as a commander parser: what it throws becomes commander's usage error, with the same message. */
function throughCommander(parse: (value: string, flag: string) => number, flag: string): (value: string) => number {
  return (value) => {
    try {
      return parse(value, flag)
    } catch (err) {
      throw new InvalidArgumentError((err as Error).message)
    }
  }
}

export function positiveInt(flag: string) {
  return (value: string): number => {
    if (!/^\d+$/.test(value) || Number(value) < 1) throw new InvalidArgumentError(`${flag} expects a whole number ≥ 1: got '${value}'`)
    return Number(value)
  }
}

/** A TCP port, 0 to 65535 (0: the system picks a free one). */
export function tcpPort(flag: string) {
  return (value: string): number => {
    if (!/^\d+$/.test(value) || Number(value) > 65535) throw new InvalidArgumentError(`${flag} expects a port number from 0 to 65535: got '${value}'`)
    return Number(value)
  }
}
