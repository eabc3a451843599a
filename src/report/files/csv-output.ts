/**
 * `--output csv:FILE`: two tables a spreadsheet opens as they are. FILE holds one row per URL
 * (and a `(total)` row); FILE with `.series` before its extension holds the per-second series.
 */
import path from 'node:path'
import type { LatencyStats } from '../../stats/types.js'
import type { RunResult } from '../result.js'
import type { OutputFile } from './file-output.js'

export function csvFiles(file: string) {
  return (result: RunResult): OutputFile[] => [
    { path: file, content: endpointsCsv(result) },
    { path: seriesPath(file), content: seriesCsv(result) },
  ]
}

/** `out.csv` → `out.series.csv`; `out` → `out.series.csv`. */
export function seriesPath(file: string): string {
  const ext = path.extname(file)
  return ext === '' ? `${file}.series.csv` : `${file.slice(0, -ext.length)}.series${ext}`
}

const LATENCY_COLUMNS = ['min_ms', 'mean_ms', 'p50_ms', 'p90_ms', 'p95_ms', 'p99_ms', 'p99_9_ms', 'max_ms']

export function endpointsCsv(r: RunResult): string {
  const header = ['method', 'name', 'hits', 'network_errors', 'hits_per_sec', 'bytes_in', 'bytes_out', ...LATENCY_COLUMNS, 'statuses', 'error_kinds']
  const rows = r.summary.endpoints.map((e) => [
    e.method, e.name, e.hits, e.errors, round(e.hitsPerSec), e.bytesIn, e.bytesOut, ...latency(e.latency), counts(e.statuses), counts(e.errorKinds),
  ])
  const s = r.summary
  rows.push(['', '(total)', s.hits, s.networkErrors, round(s.hitsPerSec), s.bytesIn, s.bytesOut, ...latency(s.latency), '', ''])
  return toCsv(header, rows)
}

export function seriesCsv(r: RunResult): string {
  const header = ['t_s', 'time_ms', 'hits', 'network_errors', 'http_errors', 'tests_run', 'failures', 'test_errors', 'active_users', 'step', 'p50_ms', 'p95_ms', 'p99_ms']
  const rows = r.series.map((p) => [
    p.t, r.summary.startMs + p.t * 1000, p.hits, p.errors, p.httpErrors, p.testsRun, p.failures, p.testErrors, p.activeUsers, p.step, round(p.p50), round(p.p95), round(p.p99),
  ])
  return toCsv(header, rows)
}

function latency(l: LatencyStats): number[] {
  return [l.min, l.mean, l.p50, l.p90, l.p95, l.p99, l.p999, l.max].map(round)
}

/** `200:998 500:2`, most frequent first. */
function counts(c: Record<string, number>): string {
  return Object.entries(c)
    .filter(([, n]) => n > 0)
    .sort(([a, x], [b, y]) => y - x || a.localeCompare(b))
    .map(([k, n]) => `${k}:${n}`)
    .join(' ')
}

const round = (n: number): number => Math.round(n * 1000) / 1000

/** RFC 4180: CRLF line ends, fields with a comma, quote or line break quoted, quotes doubled. */
export function toCsv(header: string[], rows: (string | number)[][]): string {
  const field = (v: string | number): string => {
    const s = String(v)
    return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s
  }
  return [header, ...rows].map((row) => row.map(field).join(',')).join('\r\n') + '\r\n'
}
