/**
 * The summary's checks, groups and per-test-method parts: pass rates by check name, and each
 * group's and test method's runs, failures and wall-time percentiles.
 */
import type { RunSummary, TimedSummary } from '../../stats/types.js'
import { formatPercent } from '../thresholds/judge.js'
import { formatScenarios } from './scenario-summary.js'

export interface NamedFormat {
  bold: (t: string) => string
  formatMs: (ms: number) => string
  /** Aligned columns (plain text: colors would break the alignment); `right[i]` right-aligns column i. */
  table: (header: string[], rows: string[][], right: boolean[]) => string[]
}

/** Lines for the checks, groups and test methods of `s` (none when it has none). */
export function formatNamed(s: RunSummary, f: NamedFormat): string[] {
  const out: string[] = [...formatScenarios(s.scenarios, f)]
  if (s.checks !== undefined && s.checks.length > 0) {
    const rows = s.checks.map((c) => {
      const total = c.passes + c.failures
      return [c.failures > 0 ? '✗' : '✓', c.name, total > 0 ? formatPercent(c.passes / total) : '-', String(c.passes), String(c.failures)]
    })
    out.push('', f.bold('Checks:'), ...f.table(['', 'CHECK', 'PASSED', 'PASSES', 'FAILURES'], rows, [false, false, true, true, true]).map((l) => `  ${l}`))
  }
  if (s.groups !== undefined && s.groups.length > 0) {
    out.push('', f.bold('Groups:'), ...timedTable('GROUP', s.groups, f).map((l) => `  ${l}`))
  }
  if (s.methods !== undefined && s.methods.length > 0) {
    out.push('', f.bold('Test methods:'), ...timedTable('TEST', s.methods, f).map((l) => `  ${l}`))
  }
  return out
}

function timedTable(what: string, list: TimedSummary[], f: NamedFormat): string[] {
  const rows = list.map((t) => [
    t.name,
    String(t.runs),
    String(t.failures),
    String(t.errors),
    f.formatMs(t.duration.p50),
    f.formatMs(t.duration.p95),
    f.formatMs(t.duration.p99),
    f.formatMs(t.duration.max),
    t.requests !== undefined ? String(Object.values(t.requests).reduce((a, b) => a + b, 0)) : '',
  ])
  const header = [what, 'RUNS', 'FAILURES', 'ERRORS', 'P50 ms', 'P95 ms', 'P99 ms', 'MAX ms', what === 'GROUP' ? 'REQUESTS' : '']
  return f.table(header, rows, [false, true, true, true, true, true, true, true, true])
}
