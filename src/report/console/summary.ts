/**
 * The end-of-run text: totals, latency, one line per endpoint, errors with their tracebacks,
 * counters, and last the `<TestResult run=N errors=E failures=F>` line that scripts grep for.
 */
import { namedGrpcStatuses } from '../../stats/grpc-status-names.js'
import { formatGrpc } from './grpc-summary.js'
import { OTHER_ERRORS } from '../../stats/error-groups.js'
import { formatTimingTable } from './timing-summary.js'
import type { ErrorGroup, RunSummary } from '../../stats/types.js'
import { formatGenerator } from './generator-summary.js'
import { formatNamed } from './named-summary.js'
import { formatWebSockets } from './ws-summary.js'
import { terminalSafe } from './terminal-text.js'

export interface SummaryFormatOptions {
  /** ANSI colors (bold titles, red errors). Off unless asked. */
  color?: boolean
  /** Lines printed just before the `<TestResult …>` line (e.g. thresholds, per-agent lines). */
  extraLines?: string[]
  /** Longest endpoint name shown before it is cut with `…`; default 60. */
  maxNameWidth?: number
}

/** Tracebacks printed in full, and lines kept of each. */
const TRACEBACKS = 3
const STACK_LINES = 10

export function formatSummary(s: RunSummary, opts: SummaryFormatOptions = {}): string {
  const color = opts.color === true
  const bold = (t: string): string => (color ? `\x1b[1m${t}\x1b[22m` : t)
  const red = (t: string, n: number): string => (color && n > 0 ? `\x1b[31m${t}\x1b[39m` : t)
  const out: string[] = []
  const l = s.latency

  out.push(`${bold('Duration:')} ${formatDuration(s.durationMs)}`)
  out.push(
    `${bold('Tests:')} run=${s.tests.run} ` +
      `${red(`errors=${s.tests.errors}`, s.tests.errors)} ` +
      `${red(`failures=${s.tests.failures}`, s.tests.failures)}`,
  )
  out.push(
    `${bold('Hits:')} ${s.hits} (${formatRate(s.hitsPerSec)} hits/s), ` +
      red(`failed: ${s.failed}`, s.failed) +
      (s.failed > 0 ? ` (${formatShare(s.failed, s.hits)}: network errors ${s.networkErrors}, HTTP ${s.httpFailed})` : ''),
  )
  out.push(`${bold('Bytes:')} in ${formatBytes(s.bytesIn)}, out ${formatBytes(s.bytesOut)}`)
  out.push(
    `${bold('Latency (ms):')} min ${formatMs(l.min)}  mean ${formatMs(l.mean)}  ` +
      `p50 ${formatMs(l.p50)}  p90 ${formatMs(l.p90)}  p95 ${formatMs(l.p95)}  ` +
      `p99 ${formatMs(l.p99)}  p99.9 ${formatMs(l.p999)}  max ${formatMs(l.max)}`,
  )
  if (s.service !== undefined) {
    const v = s.service
    out.push(
      `${bold('Service time (ms):')} min ${formatMs(v.min)}  mean ${formatMs(v.mean)}  p50 ${formatMs(v.p50)}  p90 ${formatMs(v.p90)}  ` +
        `p95 ${formatMs(v.p95)}  p99 ${formatMs(v.p99)}  p99.9 ${formatMs(v.p999)}  max ${formatMs(v.max)}`,
      "  (open model: latency counts from each run's intended start, coordinated omission corrected; service time is the request's own; the gap between them is how long runs waited to start because every user was busy — what a real user would have waited on top)",
    )
  }
  if (s.dropped !== undefined) {
    out.push(`${bold('Dropped starts:')} ${red(String(s.dropped), s.dropped)} (due while every user was busy, and not started before the step ended)`)
  }
  if (s.strayBytesDrops !== undefined) {
    out.push(`${bold('Connections dropped: stray bytes from the server:')} ${red(String(s.strayBytesDrops), s.strayBytesDrops)} (bytes no request asked for; the next request opened a new connection)`)
  }

  if (s.endpoints.length > 0) {
    const maxName = opts.maxNameWidth ?? 60
    const rows = s.endpoints.map((e) => [
      e.method,
      oneCell(e.name.length > maxName ? `${e.name.slice(0, maxName - 1)}…` : e.name),
      String(e.hits),
      formatRate(e.hitsPerSec),
      formatMs(e.latency.p50),
      formatMs(e.latency.p95),
      formatMs(e.latency.p99),
      String(e.failed),
      formatCounts({ ...(e.method === 'GRPC' ? namedGrpcStatuses(e.statuses) : e.statuses), ...e.errorKinds }),
    ])
    // FAILED: network errors and statuses the test did not expect (≥ 400 unless it gave `expect`).
    const header = ['METHOD', 'NAME', 'HITS', 'HITS/S', 'P50 ms', 'P95 ms', 'P99 ms', 'FAILED', 'STATUS']
    out.push('', ...table(header, rows, [false, false, true, true, true, true, true, true, false], bold))
    out.push('', ...formatTimingTable(s.endpoints, { bold, formatMs, formatBytes, table: (h, r, right) => table(h, r, right, bold), maxNameWidth: maxName }))
  }

  const ws = formatWebSockets(s.endpoints, bold, formatBytes)
  if (ws.length > 0) out.push('', ...ws)
  const grpc = formatGrpc(s.endpoints, bold, formatBytes)
  if (grpc.length > 0) out.push('', ...grpc)

  out.push(...formatNamed(s, { bold, formatMs, table: (h, rows, right) => table(h, rows, right, bold) }))

  if (s.errors.length > 0) out.push('', ...formatErrors(s.errors, bold))

  const counters = Object.entries(s.counters).sort(([a], [b]) => a.localeCompare(b))
  if (counters.length > 0) {
    out.push('', bold('Counters:'))
    const width = Math.max(...counters.map(([k]) => k.length))
    for (const [k, n] of counters) out.push(`  ${oneCell(k).padEnd(width)}  ${n}`)
  }

  if (s.generator !== undefined) out.push('', ...formatGenerator(s.generator, bold, formatBytes))

  if (opts.extraLines !== undefined && opts.extraLines.length > 0) out.push('', ...opts.extraLines)
  out.push('', `<TestResult run=${s.tests.run} errors=${s.tests.errors} failures=${s.tests.failures}>`)
  return `${out.join('\n')}\n`
}

/** What an overflow group's message means (stats/error-groups.ts). */
const OVERFLOW_TEXT = '(other errors: past the limit of distinct groups, counted by kind and not kept apart)'

function formatErrors(groups: ErrorGroup[], bold: (t: string) => string): string[] {
  const out = [bold(`Errors and failures (${groups.length} ${groups.length === 1 ? 'kind' : 'kinds'}):`)]
  // One row a group, then under it its message whole and its hint (what to do): a message is up
  // to 500 characters (error-groups.ts), its advice often at the end; in a column it was cut.
  const rows = groups.map((g) => [String(g.count), g.outcome, oneCell(g.kind), oneCell(g.test)])
  const [header, ...lines] = table(['COUNT', 'OUTCOME', 'KIND', 'TEST'], rows, [true], bold)
  out.push(`  ${header}`)
  const indent = ' '.repeat(2 + Math.max('COUNT'.length, ...rows.map((r) => r[0]!.length)) + 2)
  groups.forEach((g, i) => {
    out.push(`  ${lines[i]}`)
    out.push(...ownLines(g.message === OTHER_ERRORS ? OVERFLOW_TEXT : g.message, indent, indent))
    if (g.hint !== undefined) out.push(...ownLines(`hint: ${g.hint}`, indent, `${indent}      `))
  })
  const withStack = groups.filter((g) => g.stack !== '').slice(0, TRACEBACKS)
  if (withStack.length > 0) out.push('', bold(`Tracebacks (top ${withStack.length}):`))
  withStack.forEach((g, i) => {
    // Names the group above (whose message is there whole): its first line, cut to fit.
    out.push(`  [${i + 1}] ${oneCell(g.kind)}: ${oneLine(g.message)}  (${g.count}×, ${oneCell(g.test)})`)
    const lines = g.stack.split('\n').map((x) => terminalSafe(x.trimEnd())).filter((x) => x !== '')
    // A stack repeats "Name: message" first (its name is not always the kind: GrpcError for
    // UNAVAILABLE), the whole message when it has several lines: shown above, so the frames only.
    const firstFrame = lines.findIndex((x) => /^\s*at /.test(x))
    const frames = firstFrame > 0 ? lines.slice(firstFrame) : lines[0]?.trimStart().startsWith(g.kind) === true ? lines.slice(1) : lines
    for (const f of frames.slice(0, STACK_LINES)) out.push(`      ${f.trim()}`)
    if (frames.length > STACK_LINES) out.push(`      … ${frames.length - STACK_LINES} more`)
  })
  return out
}

/** Aligned columns; `right[i]` right-aligns column i. The header goes through `style`. */
function table(
  header: string[],
  rows: string[][],
  right: boolean[],
  style: (t: string) => string,
): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => {
        const w = widths[i] ?? 0
        if (i === cells.length - 1 && right[i] !== true) return c
        return right[i] === true ? c.padStart(w) : c.padEnd(w)
      })
      .join('  ')
      .trimEnd()
  return [style(line(header)), ...rows.map(line)]
}

/**
 * User text on lines of its own, escaped for the terminal: the first after `first`, the others
 * after `rest`; blank lines dropped. A line is never broken: it stays whole for grep and for
 * copying (a URL, a path), and the terminal folds what is longer than its width.
 */
function ownLines(text: string, first: string, rest: string): string[] {
  return text
    .split('\n')
    .map((l) => terminalSafe(l.trimEnd()))
    .filter((l) => l.trim() !== '')
    .map((l, i) => (i === 0 ? first : rest) + l)
}

const oneLine = (s: string): string => {
  const first = terminalSafe(s.split('\n', 1)[0] ?? '')
  return first.length > 120 ? `${first.slice(0, 119)}…` : first
}

/** User text in one cell: escaped for the terminal, line breaks shown as `\n`. */
const oneCell = (s: string): string => terminalSafe(s).replaceAll('\n', '\\n').replaceAll('\t', '\\t')

/** `200×998 500×2 ECONNREFUSED×1`, most frequent first. */
export function formatCounts(counts: Record<string, number>): string {
  return Object.entries(counts)
    .filter(([, n]) => n > 0)
    .sort(([a, x], [b, y]) => y - x || a.localeCompare(b))
    .map(([k, n]) => `${k}×${n}`)
    .join(' ')
}

/** `0.30%` of `total`. */
function formatShare(n: number, total: number): string {
  const p = total > 0 ? (n * 100) / total : 0
  return `${p >= 10 || p === 0 ? p.toFixed(1) : p.toFixed(2)}%`
}

/** Milliseconds: 2 decimals under 10, 1 under 1000, none above. */
export function formatMs(ms: number): string {
  if (ms < 10) return ms.toFixed(2)
  if (ms < 1000) return ms.toFixed(1)
  return ms.toFixed(0)
}

export function formatRate(perSec: number): string {
  if (perSec < 10) return perSec.toFixed(2)
  if (perSec < 100) return perSec.toFixed(1)
  return perSec.toFixed(0)
}

/** `850 ms`, `12.34 s`, `2m 03s`, `1h 02m 03s`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`
  if (ms < 60_000) return `${(ms / 1000).toFixed(2)} s`
  const total = Math.round(ms / 1000)
  const h = Math.floor(total / 3600)
  const m = Math.floor((total % 3600) / 60)
  const sec = String(total % 60).padStart(2, '0')
  return h > 0 ? `${h}h ${String(m).padStart(2, '0')}m ${sec}s` : `${m}m ${sec}s`
}

/** Decimal units: `512 B`, `1.23 kB`, `45.6 MB`. */
export function formatBytes(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB']
  let v = n
  let u = 0
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000
    u++
  }
  if (u === 0) return `${v} B`
  return `${v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : v.toFixed(0)} ${units[u]}`
}
