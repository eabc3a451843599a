import { UsageError } from '../errors.js'

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }

/**
 * Parses a duration given on the command line or in a config file, once: `30` (seconds), `30s`,
 * `500ms`, `2m`, `1h`, `1m30s`. Returns milliseconds.
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

function positive(ms: number, text: string, flag: string): number {
  if (!(ms > 0) || !Number.isFinite(ms)) throw bad(text, flag)
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
