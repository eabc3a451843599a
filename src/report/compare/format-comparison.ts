/** The comparison of two runs as text, for the terminal and CI logs. */
import { formatMs, formatRate } from '../console/summary.js'
import { formatPercent } from '../thresholds/judge.js'
import type { Comparison, Delta, FigureSet, Metric } from './compare.js'

const COLUMNS: { key: Metric; title: string; fmt: (v: number) => string }[] = [
  { key: 'hitsPerSec', title: 'HITS/S', fmt: formatRate },
  { key: 'p50', title: 'P50 ms', fmt: formatMs },
  { key: 'p95', title: 'P95 ms', fmt: formatMs },
  { key: 'p99', title: 'P99 ms', fmt: formatMs },
  { key: 'failedShare', title: 'FAILED', fmt: formatPercent },
]

export function formatComparison(c: Comparison, labels: { base: string; current: string }): string {
  const rows: string[][] = [['', '(all)', ...cells(c.overall), flags(c.overall.regressions, 'both')]]
  for (const e of c.endpoints) rows.push([e.method, e.name, ...cells(e), flags(e.regressions, e.presence)])
  const header = ['METHOD', 'NAME', ...COLUMNS.map((col) => col.title), 'FLAGS']
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (r: string[]): string =>
    r
      .map((cell, i) => (i >= 2 && i < 2 + COLUMNS.length ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd()
  const tolerance = `${Math.round(c.options.tolerance * 100)}%`
  return [
    `base:    ${labels.base}`,
    `current: ${labels.current}`,
    '',
    line(header),
    ...rows.map(line),
    '',
    c.regressionCount === 0
      ? `no regression (tolerance ${tolerance})`
      : `${c.regressionCount} regression${c.regressionCount === 1 ? '' : 's'} (tolerance ${tolerance}: latency over ${tolerance} and 1 ms higher, rate over ${tolerance} lower, failed share over 1 point higher)`,
    '',
  ].join('\n')
}

function cells(f: FigureSet): string[] {
  return COLUMNS.map((col) => cell(f[col.key], col.key, col.fmt))
}

/** `12.5 → 14.1 (+13%)`. */
function cell(d: Delta, key: Metric, fmt: (v: number) => string): string {
  const base = d.base === null ? '–' : fmt(d.base)
  const current = d.current === null ? '–' : fmt(d.current)
  let change = ''
  if (d.change !== null && key === 'failedShare') change = ` (${d.change >= 0 ? '+' : '-'}${(Math.abs(d.change) * 100).toFixed(2)}pt)`
  else if (d.ratio !== null) change = ` (${d.ratio >= 0 ? '+' : '-'}${Math.abs(d.ratio * 100).toFixed(Math.abs(d.ratio) >= 0.1 ? 0 : 1)}%)`
  return `${base} → ${current}${change}`
}

function flags(regressions: Metric[], presence: 'both' | 'gone' | 'new'): string {
  if (presence !== 'both') return presence
  return regressions.length > 0 ? `REGRESSED ${regressions.map((m) => COLUMNS.find((c) => c.key === m)?.title ?? m).join(', ')}` : ''
}
