/** The comparison of two runs: overall and per-URL deltas, regressions flagged, series overlaid. */
import type { Comparison, Delta, EndpointComparison, FigureSet, Metric } from '../../src/report/compare/compare.js'
import type { ReportView } from '../../src/report/result.js'
import { Chart, COLORS } from './charts.js'
import { h } from './dom.js'
import * as f from './format.js'

export interface CompareData {
  base: ReportView
  current: ReportView
  baseLabel: string
  currentLabel: string
  comparison: Comparison
  loadsVersion: string
  generatedMs: number
}

const METRICS: { key: Metric; label: string; fmt: (v: number) => string }[] = [
  { key: 'hitsPerSec', label: 'Hits/s', fmt: f.rate },
  { key: 'p50', label: 'p50 ms', fmt: f.ms },
  { key: 'p95', label: 'p95 ms', fmt: f.ms },
  { key: 'p99', label: 'p99 ms', fmt: f.ms },
  { key: 'failedShare', label: 'Failed', fmt: f.percent },
]

export function renderCompare(root: HTMLElement, d: CompareData): void {
  const c = d.comparison
  const tolerance = `${Math.round(c.options.tolerance * 100)}%`
  const rate = new Chart({ title: 'Hits per second', unit: 'hits/s', lines: [{ label: 'base', color: COLORS.slate, dash: [6, 4] }, { label: 'current', color: COLORS.blue, fill: true }] })
  const p95 = new Chart({ title: 'p95 latency', unit: 'ms', lines: [{ label: 'base', color: COLORS.slate, dash: [6, 4] }, { label: 'current', color: COLORS.amber }] })
  root.replaceChildren(
    h(
      'header',
      { class: 'top' },
      h('div', { class: 'brand' }, 'Loads'),
      h('div', { class: 'heading' }, h('h1', { class: 'address' }, 'Comparison'), h('div', { class: 'subtitle' }, `base ${d.baseLabel} (${f.clock(d.base.run.startMs)}) → current ${d.currentLabel} (${f.clock(d.current.run.startMs)})`)),
      h('div', { class: 'status' }, h('span', { class: 'badge', 'data-state': c.regressionCount > 0 ? 'regressed' : 'finished' }, c.regressionCount > 0 ? `${c.regressionCount} regression${c.regressionCount === 1 ? '' : 's'}` : 'no regression')),
    ),
    h(
      'main',
      {},
      h('section', { class: 'plan' }, h('div', { class: 'step' }, `${d.base.run.address} vs ${d.current.run.address} · a regression is a latency over ${tolerance} (and 1 ms) higher, a rate over ${tolerance} lower, or a failed share over 1 point higher`)),
      h('section', { class: 'kpis compare-kpis' }, ...METRICS.map((m) => overallCard(m, c.overall, c.overall.regressions))),
      h('section', { class: 'charts two' }, rate.el, p95.el),
      h(
        'section',
        { class: 'panel' },
        h('h2', {}, 'Per URL'),
        h(
          'div',
          { class: 'table-wrap' },
          h(
            'table',
            { id: 'compare', class: 'data' },
            h('thead', {}, h('tr', {}, h('th', {}, 'Method'), h('th', {}, 'Name'), ...METRICS.map((m) => h('th', { class: 'num' }, m.label)), h('th', {}, 'Flags'))),
            h('tbody', {}, ...c.endpoints.map(endpointRow)),
          ),
        ),
      ),
    ),
    h('footer', {}, `Loads ${d.loadsVersion} · report generated ${f.clock(d.generatedMs)}`),
  )
  rate.mount()
  p95.mount()
  const [x, a, b] = align(d.base, d.current, 'hits')
  rate.setData([x, a, b])
  const [x2, a2, b2] = align(d.base, d.current, 'p95')
  p95.setData([x2, a2, b2])
}

function overallCard(m: (typeof METRICS)[number], set: FigureSet, regressions: Metric[]): HTMLElement {
  const d = set[m.key]
  const bad = regressions.includes(m.key)
  return h(
    'div',
    { class: `kpi${bad ? ' bad' : ''}`, 'data-kpi': m.key },
    h('div', { class: 'kpi-label' }, m.label),
    h('div', { class: 'kpi-value' }, d.current === null ? '–' : m.fmt(d.current)),
    h('div', { class: 'kpi-sub' }, `was ${d.base === null ? '–' : m.fmt(d.base)} ${change(m.key, d)}`),
  )
}

function endpointRow(e: EndpointComparison): HTMLElement {
  const flags = e.presence === 'new' ? 'new' : e.presence === 'gone' ? 'gone' : e.regressions.length > 0 ? `regressed: ${e.regressions.map(label).join(', ')}` : ''
  return h(
    'tr',
    { class: e.regressions.length > 0 ? 'regressed' : '' },
    h('td', { class: 'method' }, e.method),
    h('td', { class: 'name', title: e.name }, e.name),
    ...METRICS.map((m) => {
      const d = e[m.key]
      return h(
        'td',
        { class: `num delta${e.regressions.includes(m.key) ? ' bad' : ''}` },
        h('span', { class: 'was' }, d.base === null ? '–' : m.fmt(d.base)),
        ' → ',
        h('span', { class: 'now' }, d.current === null ? '–' : m.fmt(d.current)),
        h('span', { class: 'change' }, change(m.key, d)),
      )
    }),
    h('td', { class: e.regressions.length > 0 ? 'flags bad' : 'flags' }, flags),
  )
}

function change(key: Metric, d: Delta): string {
  if (d.change === null) return ''
  if (key === 'failedShare') return ` (${d.change >= 0 ? '+' : '−'}${(Math.abs(d.change) * 100).toFixed(2)} pt)`
  const s = f.signedPercent(d.ratio)
  return s === '' ? '' : ` (${s})`
}

function label(m: Metric): string {
  return METRICS.find((x) => x.key === m)?.label ?? m
}

/** Both series on one x axis (seconds since each run's start). */
function align(a: ReportView, b: ReportView, key: 'hits' | 'p95'): [number[], (number | null)[], (number | null)[]] {
  const last = Math.max(a.series.at(-1)?.t ?? 0, b.series.at(-1)?.t ?? 0)
  const x = Array.from({ length: last + 1 }, (_, i) => i)
  const pick = (v: ReportView): (number | null)[] => {
    const byT = new Map(v.series.map((p) => [p.t, p[key]]))
    return x.map((t) => byT.get(t) ?? null)
  }
  return [x, pick(a), pick(b)]
}
