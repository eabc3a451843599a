/**
 * The summary's scenarios part: each config-file scenario's test runs, hits, failed hits and hit
 * latency percentiles (k6 shows these as metrics tagged `scenario:NAME`).
 */
import type { ScenarioSummary } from '../../stats/types.js'
import type { NamedFormat } from './named-summary.js'

/** Lines for the scenarios (none when the run had none). */
export function formatScenarios(list: readonly ScenarioSummary[] | undefined, f: NamedFormat): string[] {
  if (list === undefined || list.length === 0) return []
  const rows = list.map((s) => [
    s.name,
    String(s.runs),
    String(s.failures + s.errors),
    String(s.hits),
    String(s.failed),
    f.formatMs(s.latency.p50),
    f.formatMs(s.latency.p95),
    f.formatMs(s.latency.p99),
    f.formatMs(s.latency.max),
    s.dropped !== undefined ? String(s.dropped) : '',
  ])
  const dropped = list.some((s) => s.dropped !== undefined)
  const header = ['SCENARIO', 'RUNS', 'FAILED RUNS', 'HITS', 'FAILED', 'P50 ms', 'P95 ms', 'P99 ms', 'MAX ms', dropped ? 'DROPPED' : '']
  return ['', f.bold('Scenarios:'), ...f.table(header, rows, header.map((_h, i) => i > 0)).map((l) => `  ${l}`)]
}
