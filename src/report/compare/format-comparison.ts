/** The comparison of two runs as text, for the terminal and CI logs. */
import { formatDuration, formatMs, formatRate } from '../console/summary.js'
import { terminalSafe } from '../console/terminal-text.js'
import { formatPercent } from '../thresholds/judge.js'
import type { Comparison, Delta, FigureSet, Finding, Metric, RunFacts, TestComparison } from './compare.js'

const COLUMNS: { key: Metric; title: string; fmt: (v: number) => string }[] = [
  { key: 'hitsPerSec', title: 'HITS/S', fmt: formatRate },
  { key: 'p50', title: 'P50 ms', fmt: formatMs },
  { key: 'p95', title: 'P95 ms', fmt: formatMs },
  { key: 'p99', title: 'P99 ms', fmt: formatMs },
  { key: 'failedShare', title: 'FAILED', fmt: formatPercent },
]

/** Longest name or side-by-side value printed whole; longer ones keep their start and end around `…`. */
export const MAX_CELL = 60

export interface FormatComparisonOptions {
  /** `--force`: the runs are not comparable, and the deltas are printed anyway. */
  forced?: boolean
}

/**
 * The runs side by side, then — when they are comparable, or with `--force` — the per-URL and
 * per-test deltas, what regressed and what improved. Without `--force`, runs that are not
 * comparable get only the side by side and the reasons.
 */
export function formatComparison(c: Comparison, labels: { base: string; current: string }, options: FormatComparisonOptions = {}): string {
  const out = [`base:    ${safe(labels.base, 200)}`, `current: ${safe(labels.current, 200)}`, '', ...sideBySide(c.runs.base, c.runs.current), '']
  if (c.notComparable.length > 0) {
    out.push(options.forced === true ? 'NOT COMPARABLE (compared anyway, --force):' : 'NOT COMPARABLE:', ...c.notComparable.map((r) => `  ${safe(r, 400)}`), '')
    if (options.forced !== true) return `${out.join('\n')}\n`
  }
  out.push(...endpointTable(c), '', ...testTable(c.tests), '')
  const finding = (x: Finding): string => `  ${safe(x.subject, MAX_CELL)}: ${safe(x.detail, 200)}`
  if (c.regressionList.length > 0) out.push(`Regressions (${c.regressionList.length}):`, ...c.regressionList.map(finding), '')
  if (c.improvementList.length > 0) out.push(`Improvements (${c.improvementList.length}):`, ...c.improvementList.map(finding), '')
  const tolerance = `${Math.round(c.options.tolerance * 100)}%`
  out.push(
    c.regressionCount === 0
      ? `no regression (tolerance ${tolerance})`
      : `${c.regressionCount} regression${c.regressionCount === 1 ? '' : 's'} (tolerance ${tolerance}: latency over ${tolerance} and 1 ms higher, rate over ${tolerance} lower, failed share of hits or test runs over 1 point higher, every run of a test failed, an endpoint vanished, a threshold failed)`,
    '',
  )
  return out.join('\n')
}

/** `tests`, `plan`, `users`, `duration`, `ended`, `test runs`, `thresholds`, `where` for both runs. */
function sideBySide(b: RunFacts, c: RunFacts): string[] {
  const tests = (f: RunFacts): string => `${f.tests.length} test${f.tests.length === 1 ? '' : 's'}: ${f.tests.join(', ')}`
  const duration = (f: RunFacts): string => `${formatDuration(f.durationMs)}${f.plannedMs !== null ? ` (planned ${formatDuration(f.plannedMs)})` : ''}`
  const ended = (f: RunFacts): string => `${f.state}${f.exitCode !== undefined ? `, exit ${f.exitCode}` : ''}`
  const runs = (f: RunFacts): string => `${f.testRuns}, ${f.failedRuns} failed (${formatPercent(f.testRuns > 0 ? f.failedRuns / f.testRuns : 0)})`
  const thresholds = (f: RunFacts): string => (f.thresholds === 0 ? 'none' : f.failedThresholds.length === 0 ? `${f.thresholds} held` : `${f.failedThresholds.length} of ${f.thresholds} failed: ${f.failedThresholds.join(', ')}`)
  const where = (f: RunFacts): string => `${f.mode === 'local' ? 'this machine' : 'cluster'}, ${f.workers} worker${f.workers === 1 ? '' : 's'}`
  const rows: [string, (f: RunFacts) => string][] = [
    ['tests', tests],
    ['plan', (f) => f.plan],
    ['users', (f) => f.users],
    ['duration', duration],
    ['ended', ended],
    ['hits', (f) => String(f.hits)],
    ['test runs', runs],
    ['thresholds', thresholds],
    ['where', where],
  ]
  const cells = rows.map(([label, fn]) => [label, safe(fn(b), MAX_CELL), safe(fn(c), MAX_CELL)] as const)
  const w0 = Math.max(...cells.map((r) => r[0].length))
  const w1 = Math.max('base'.length, ...cells.map((r) => r[1].length))
  return [`${''.padEnd(w0)}  ${'base'.padEnd(w1)}  current`, ...cells.map(([l, x, y]) => `${l.padEnd(w0)}  ${x.padEnd(w1)}  ${y}`.trimEnd())]
}

function endpointTable(c: Comparison): string[] {
  const rows: string[][] = [['', '(all)', ...cells(c.overall), flags(c.overall.regressions, c.overall.improvements, 'both')]]
  for (const e of c.endpoints) rows.push([safe(e.method, 12), safe(e.name, MAX_CELL), ...cells(e), flags(e.regressions, e.improvements, e.presence)])
  const header = ['METHOD', 'NAME', ...COLUMNS.map((col) => col.title), 'FLAGS']
  return table(header, rows, (i) => i >= 2 && i < 2 + COLUMNS.length)
}

function testTable(tests: TestComparison[]): string[] {
  const share = (v: number | null): string => (v === null ? '–' : formatPercent(v))
  const rows = tests.map((t) => [
    safe(t.name, MAX_CELL),
    `${t.runs.base ?? '–'} → ${t.runs.current ?? '–'}`,
    `${share(t.failedShare.base)} → ${share(t.failedShare.current)}${points(t.failedShare)}`,
    t.presence !== 'both' ? t.presence.toUpperCase() : t.regressed ? 'REGRESSED' : t.improved ? 'improved' : '',
  ])
  return table(['TEST', 'RUNS', 'FAILED RUNS', 'FLAGS'], rows, (i) => i === 1 || i === 2)
}

function table(header: string[], rows: string[][], right: (i: number) => boolean): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (r: string[]): string =>
    r
      .map((cell, i) => (right(i) ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd()
  return [line(header), ...rows.map(line)]
}

function cells(f: FigureSet): string[] {
  return COLUMNS.map((col) => cell(f[col.key], col.key, col.fmt))
}

/** `12.5 → 14.1 (+13%)`. */
function cell(d: Delta, key: Metric, fmt: (v: number) => string): string {
  const base = d.base === null ? '–' : fmt(d.base)
  const current = d.current === null ? '–' : fmt(d.current)
  let change = ''
  if (key === 'failedShare') change = points(d)
  else if (d.ratio !== null) change = ` (${d.ratio >= 0 ? '+' : '-'}${Math.abs(d.ratio * 100).toFixed(Math.abs(d.ratio) >= 0.1 ? 0 : 1)}%)`
  return `${base} → ${current}${change}`
}

function points(d: Delta): string {
  return d.change === null ? '' : ` (${d.change >= 0 ? '+' : '-'}${(Math.abs(d.change) * 100).toFixed(2)}pt)`
}

function flags(regressions: Metric[], improvements: Metric[], presence: 'both' | 'gone' | 'new'): string {
  if (presence === 'gone') return 'VANISHED'
  if (presence === 'new') return 'new'
  const names = (ms: Metric[]): string => ms.map((m) => COLUMNS.find((c) => c.key === m)?.title ?? m).join(', ')
  const parts = [...(regressions.length > 0 ? [`REGRESSED ${names(regressions)}`] : []), ...(improvements.length > 0 ? [`improved ${names(improvements)}`] : [])]
  return parts.join('; ')
}

/** Terminal-safe, and at most `max` characters: the start and the end kept around `…`. */
export function safe(text: string, max: number): string {
  const s = terminalSafe(text)
  if (s.length <= max) return s
  const head = Math.ceil((max - 1) / 2)
  return `${s.slice(0, head)}…${s.slice(s.length - (max - 1 - head))}`
}
