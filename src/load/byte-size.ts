import { UsageError } from '../errors.js'

/** Multipliers of the units a byte size may carry (case-insensitive): SI and binary. */
const UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
}

/**
 * Parses a size given on the command line or in a config file, once: `1048576` (bytes),
 * `500kB`, `64MB`, `1GB` (powers of 1000, as the summary prints them), `64MiB`, `1GiB` (powers
 * of 1024). Returns whole bytes, ≥ 0 and at most 2^53 - 1.
 */
export function parseByteSize(text: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim())
  const unit = m === null ? undefined : UNITS[m[2]!.toLowerCase()]
  if (m === null || unit === undefined) {
    throw new UsageError(`${flag} expects a size like 1048576, 500kB, 64MB, 64MiB or 1GiB: got '${text}'`)
  }
  const bytes = Math.round(Number(m[1]) * unit)
  if (!Number.isSafeInteger(bytes)) throw new UsageError(`${flag} ${text} is too large`)
  return bytes
}
