import { UsageError } from '../errors.js'

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }

/**
 * Parses a duration given on the command line or in a config file, once: `30` (seconds), `30s`,
 * `500ms`, `2m`, `1h`, `1m30s`. Returns whole milliseconds, from 1 ms to `MAX_DURATION_MS`.
 */
export function parseDuration(text: string, flag: string): number {
  const s = text.trim()
  if (/^\d+(\.\d+)?$/.test(s)) return positive(Number(s) * 1000, text, flag)
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/y
  let total = 0
  let pos = 0
  while (pos < s.length) {
    re.lastIndex = pos
    const m = re.exec(s)
    if (!m) throw bad(text, flag)
    total += Number(m[1]) * (UNITS[m[2] as string] as number)
    pos = re.lastIndex
  }
  if (pos === 0) throw bad(text, flag)
  return positive(total, text, flag)
}

/**
 * The longest duration accepted, ms: 2^31 - 1 (about 24.8 days), Node's timer limit. Past it a
 * timer fires after 1 ms, so `--timeout 1000h` would time out every request at once.
 */
export const MAX_DURATION_MS = 2 ** 31 - 1

function positive(ms: number, text: string, flag: string): number {
  if (!(ms > 0) || !Number.isFinite(ms)) throw bad(text, flag)
  if (ms < 1) throw new UsageError(`${flag} ${text} is below 1 ms, the shortest duration Loads times`)
  if (ms > MAX_DURATION_MS) throw new UsageError(`${flag} ${text} is longer than the longest duration, ${Math.floor(MAX_DURATION_MS / 3_600_000)}h (2^31-1 ms, Node's timer limit)`)
  return Math.round(ms)
}

function bad(text: string, flag: string): UsageError {
  return new UsageError(`${flag} expects a duration like 30, 30s, 500ms, 2m or 1m30s: got '${text}'`)
}

/** `1500` → `1.5s`, `90000` → `1m30s`: the inverse, for messages. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms % 1000 === 0 ? 0 : 1)}s`
  const m = Math.floor(ms / 60_000)
  const s = Math.round((ms % 60_000) / 1000)
  return s ? `${m}m${s}s` : `${m}m`
}
