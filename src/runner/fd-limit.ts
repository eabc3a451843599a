import { readFileSync } from 'node:fs'

/** The soft limit on open files of this process (Linux), or undefined where it cannot be read. */
export function openFileLimit(): number | undefined {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'))
    const soft = line?.split(/\s{2,}/)[1]
    return soft === undefined || soft === 'unlimited' ? undefined : Number(soft)
  } catch {
    return undefined
  }
}

/**
 * Each virtual user owns at least one connection: warn before a run whose users would exhaust
 * the open-file limit (they would fail with EMFILE, counted as errors, and skew the numbers).
 */
export function fdLimitWarning(maxUsers: number, limit = openFileLimit()): string | undefined {
  if (limit === undefined) return undefined
  const needed = maxUsers + 64
  if (needed <= limit) return undefined
  return `warning: ${maxUsers} users need about ${needed} open files, and the limit is ${limit}; requests past it fail with EMFILE. Raise it first: ulimit -n ${Math.max(needed * 2, 65536)}`
}
