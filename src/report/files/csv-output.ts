/**
 * `--output csv:FILE`: three tables a spreadsheet opens as they are. FILE holds one row per URL
 * (and a `(total)` row); FILE with `.series` before its extension holds the per-second series;
 * FILE with `.details` one row per check, group, test method and counter.
 */
import path from 'node:path'
import { namedGrpcStatuses } from '../../stats/grpc-status-names.js'
import type { LatencyStats } from '../../stats/types.js'
import type { RunResult } from '../result.js'
import type { OutputFile } from './file-output.js'

export function csvFiles(file: string) {
  return (result: RunResult): OutputFile[] => [
    { path: file, content: endpointsCsv(result) },
    { path: seriesPath(file), content: seriesCsv(result) },
    { path: detailsPath(file), content: detailsCsv(result) },
  ]
}

/** `out.csv` → `out.details.csv`. */
export function detailsPath(file: string): string {
  return withInfix(file, 'details')
}

/** `out.csv` → `out.series.csv`; `out` → `out.series.csv`. */
export function seriesPath(file: string): string {
  return withInfix(file, 'series')
}

function withInfix(file: string, infix: string): string {
  const ext = path.extname(file)
  return ext === '' ? `${file}.${infix}.csv` : `${file.slice(0, -ext.length)}.${infix}${ext}`
}

const LATENCY_COLUMNS = ['min_ms', 'mean_ms', 'p50_ms', 'p90_ms', 'p95_ms', 'p99_ms', 'p99_9_ms', 'max_ms']

/**
 * After the latency and the statuses (kept where they were for older readers): time to first
 * byte, connections opened and their mean connect time (TCP), open model only the raw service
 * time beside the latency counted from intended starts, then the TLS handshakes and their mean
 * time (https, wss). Cells with nothing measured are empty, never 0: plain HTTP has empty TLS cells.
 */
const TIMING_COLUMNS = ['ttfb_mean_ms', 'ttfb_p50_ms', 'ttfb_p95_ms', 'ttfb_p99_ms', 'ttfb_max_ms', 'connects', 'connect_mean_ms', 'service_p50_ms', 'service_p95_ms', 'service_p99_ms', 'tls_handshakes', 'tls_mean_ms']

/** gRPC endpoints' statuses are written by name (`OK:10 UNAVAILABLE:2`), as the console shows them. */
export function endpointsCsv(r: RunResult): string {
  // failed = network_errors + http_failed (statuses the test did not expect: ≥ 400 unless it said otherwise).
  const header = ['method', 'name', 'hits', 'failed', 'network_errors', 'http_failed', 'hits_per_sec', 'bytes_in', 'bytes_out', ...LATENCY_COLUMNS, 'statuses', 'error_kinds', ...TIMING_COLUMNS]
  const rows = r.summary.endpoints.map((e) => [
    e.method, e.name, e.hits, e.failed, e.errors, e.httpFailed, round(e.hitsPerSec), e.bytesIn, e.bytesOut, ...latency(e.latency), counts(e.method === 'GRPC' ? namedGrpcStatuses(e.statuses) : e.statuses), counts(e.errorKinds),
    ...ttfb(e.ttfb), e.connects, e.connects > 0 ? round(e.connectMeanMs) : '', ...service(e.service),
    e.tlsHandshakes ?? '', e.tlsMeanMs !== undefined ? round(e.tlsMeanMs) : '',
  ])
  const s = r.summary
  const connects = s.endpoints.reduce((n, e) => n + e.connects, 0)
  const connectMs = s.endpoints.reduce((n, e) => n + e.connectMeanMs * e.connects, 0)
  const handshakes = s.endpoints.reduce((n, e) => n + (e.tlsHandshakes ?? 0), 0)
  const tlsMs = s.endpoints.reduce((n, e) => n + (e.tlsMeanMs ?? 0) * (e.tlsHandshakes ?? 0), 0)
  rows.push([
    '', '(total)', s.hits, s.failed, s.networkErrors, s.httpFailed, round(s.hitsPerSec), s.bytesIn, s.bytesOut, ...latency(s.latency), '', '',
    // TTFB is kept per URL only (no run-wide histogram).
    '', '', '', '', '', connects, connects > 0 ? round(connectMs / connects) : '', ...service(s.service),
    handshakes > 0 ? handshakes : '', handshakes > 0 ? round(tlsMs / handshakes) : '',
  ])
  return toCsv(header, rows)
}

function ttfb(l: LatencyStats): (number | string)[] {
  return l.count > 0 ? [l.mean, l.p50, l.p95, l.p99, l.max].map(round) : ['', '', '', '', '']
}

function service(l: LatencyStats | undefined): (number | string)[] {
  return l !== undefined && l.count > 0 ? [l.p50, l.p95, l.p99].map(round) : ['', '', '']
}

export function seriesCsv(r: RunResult): string {
  const header = ['t_s', 'time_ms', 'hits', 'failed', 'network_errors', 'http_errors', 'tests_run', 'failures', 'test_errors', 'active_users', 'step', 'p50_ms', 'p95_ms', 'p99_ms']
  const rows = r.series.map((p) => [
    p.t, r.summary.startMs + p.t * 1000, p.hits, p.errors + p.httpErrors, p.errors, p.httpErrors, p.testsRun, p.failures, p.testErrors, p.activeUsers, p.step, orEmpty(p.p50), orEmpty(p.p95), orEmpty(p.p99),
  ])
  return toCsv(header, rows)
}

/**
 * One row per check (`kind` check: `runs` = evaluations, `passes`, `failures`), group and test
 * method (`runs`, `failures`, `errors` and their wall time in ms; `requests` for groups), custom
 * counter (`kind` counter: its total in `value`), and the run's own tallies in `value`: open-model
 * starts dropped (`schedule,dropped_starts`) and connections dropped for stray bytes
 * (`connection,stray_bytes_drops`), when there were any. Each scenario has two rows: `kind`
 * scenario (its test runs as a method's, `requests` its hits) and `kind` scenario_hits (`runs` =
 * hits, `failures` = failed hits, the hits' latency in ms).
 */
export function detailsCsv(r: RunResult): string {
  const header = ['kind', 'name', 'runs', 'passes', 'failures', 'errors', ...LATENCY_COLUMNS, 'requests', 'value']
  const s = r.summary
  const blank = LATENCY_COLUMNS.map(() => '')
  const rows: (string | number)[][] = []
  for (const c of s.checks ?? []) rows.push(['check', c.name, c.passes + c.failures, c.passes, c.failures, '', ...blank, '', ''])
  for (const [kind, list] of [['group', s.groups], ['method', s.methods]] as const) {
    for (const t of list ?? []) {
      rows.push([kind, t.name, t.runs, t.runs - t.failures - t.errors, t.failures, t.errors, ...latency(t.duration), t.requests !== undefined ? counts(t.requests) : '', ''])
    }
  }
  for (const sc of s.scenarios ?? []) {
    rows.push(['scenario', sc.name, sc.runs, sc.runs - sc.failures - sc.errors, sc.failures, sc.errors, ...latency(sc.duration), sc.hits, ''])
    rows.push(['scenario_hits', sc.name, sc.hits, sc.hits - sc.failed, sc.failed, '', ...latency(sc.latency), '', ''])
  }
  const tally = (kind: string, name: string, value: number): number => rows.push([kind, name, '', '', '', '', ...blank, '', value])
  for (const name of Object.keys(s.counters).sort()) tally('counter', name, s.counters[name]!)
  if (s.dropped !== undefined) tally('schedule', 'dropped_starts', s.dropped)
  if (s.strayBytesDrops !== undefined) tally('connection', 'stray_bytes_drops', s.strayBytesDrops)
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

/** A second in which nothing was measured is an empty cell (a gap in a spreadsheet's chart), never 0. */
const orEmpty = (n: number | null): number | string => (n === null ? '' : round(n))

/**
 * RFC 4180: CRLF line ends, fields with a comma, quote or line break quoted, quotes doubled.
 * Text fields are made safe for spreadsheets: one that starts like a formula (`=`, `+`, `-`, `@`,
 * tab, CR) gets a leading `'` (OWASP's advice against CSV injection), and control characters
 * (ESC …) are written as `\x1b`, never raw.
 */
export function toCsv(header: string[], rows: (string | number)[][]): string {
  const field = (v: string | number): string => {
    const s = typeof v === 'number' ? String(v) : safeText(v)
    return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s
  }
  return [header, ...rows].map((row) => row.map(field).join(',')).join('\r\n') + '\r\n'
}

// C0 controls but line feed (quoted below), DEL, and C1 (CSI 0x9b acts as ESC [ in some terminals).
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/g

function safeText(v: string): string {
  const s = /^[=+\-@\t\r]/.test(v) ? `'${v}` : v
  return s.replace(CONTROL, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)
}
