/**
 * The comparison of two runs: each run side by side (tests, plan, users, duration, how it
 * ended), why they are not comparable when they are not, overall and per-URL deltas, per-test
 * failed runs, regressions and improvements listed, series overlaid.
 */
import type { Comparison, Delta, EndpointComparison, FigureSet, Finding, Metric, RunFacts, TestComparison } from '../../src/report/compare/compare.js'
import type { ReportView } from '../../src/report/result.js'
import { Chart, COLORS } from './charts.js'
import { h } from './dom.js'
import * as f from './format.js'
import './compare.css'

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
  const notComparable = (c.notComparable ?? []).length > 0
  const rate = new Chart({ title: 'Hits per second', unit: 'hits/s', lines: [{ label: 'base', color: COLORS.slate, dash: [6, 4] }, { label: 'current', color: COLORS.blue, fill: true }] })
  const p95 = new Chart({ title: 'p95 latency', unit: 'ms', lines: [{ label: 'base', color: COLORS.slate, dash: [6, 4] }, { label: 'current', color: COLORS.amber }] })
  const verdict = notComparable ? 'not comparable' : c.regressionCount > 0 ? `${c.regressionCount} regression${c.regressionCount === 1 ? '' : 's'}` : 'no regression'
  root.replaceChildren(
    h(
      'header',
      { class: 'top' },
      h('div', { class: 'brand' }, 'Loads'),
      h('div', { class: 'heading' }, h('h1', { class: 'address' }, 'Comparison'), h('div', { class: 'subtitle' }, `base ${d.baseLabel} (${f.clock(d.base.run.startMs)}) → current ${d.currentLabel} (${f.clock(d.current.run.startMs)})`)),
      h('div', { class: 'status' }, h('span', { class: 'badge', 'data-state': notComparable || c.regressionCount > 0 ? 'regressed' : 'finished' }, verdict)),
    ),
    h(
      'main',
      { class: 'compare' },
      notComparable
        ? h('section', { class: 'not-comparable' }, h('h2', {}, 'Not comparable (compared anyway with --force)'), h('ul', {}, ...c.notComparable.map((r) => h('li', {}, r))))
        : null,
      c.runs !== undefined ? sideBySide(c.runs.base, c.runs.current) : null,
      h('p', { class: 'rule' }, `A regression is a latency over ${tolerance} (and 1 ms) higher, a rate over ${tolerance} lower, a failed share of hits or test runs over 1 point higher, a test whose every run failed, an endpoint that vanished, or a threshold that failed.`),
      h('section', { class: 'kpis compare-kpis' }, ...METRICS.map((m) => overallCard(m, c.overall, c.overall.regressions))),
      findings(c),
      h('section', { class: 'charts two' }, rate.el, p95.el),
      h('section', { class: 'panel' }, h('h2', {}, 'Per URL'), h('div', { class: 'table-wrap' }, h('table', { id: 'compare', class: 'data' }, h('thead', {}, h('tr', {}, h('th', {}, 'Method'), h('th', {}, 'Name'), ...METRICS.map((m) => h('th', { class: 'num' }, m.label)), h('th', {}, 'Flags'))), h('tbody', {}, ...c.endpoints.map(endpointRow))))),
      c.tests !== undefined
        ? h('section', { class: 'panel' }, h('h2', {}, 'Per test'), h('div', { class: 'table-wrap' }, h('table', { id: 'compare-tests', class: 'data' }, h('thead', {}, h('tr', {}, h('th', {}, 'Test'), h('th', { class: 'num' }, 'Runs'), h('th', { class: 'num' }, 'Failed runs'), h('th', {}, 'Flags'))), h('tbody', {}, ...c.tests.map(testRow)))))
        : null,
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

/** Tests, plan, users, duration, end, hits, runs, thresholds, where: a row each, differing cells marked. */
function sideBySide(b: RunFacts, c: RunFacts): HTMLElement {
  const rows: [string, string, (x: RunFacts) => string][] = [
    ['tests', 'tests', (x) => x.tests.join(', ')],
    ['plan', 'plan', (x) => x.plan],
    ['users', 'users', (x) => x.users],
    ['duration', 'duration', (x) => `${f.shortDuration(x.durationMs) || '0s'}${x.plannedMs !== null ? ` (planned ${f.shortDuration(x.plannedMs)})` : ''}`],
    ['ended', 'ended', (x) => `${x.state}${x.exitCode !== undefined ? ` · exit ${x.exitCode}` : ''}`],
    ['hits', 'hits', (x) => f.int(x.hits)],
    ['runs', 'test runs', (x) => `${f.int(x.testRuns)} · ${f.int(x.failedRuns)} failed`],
    ['thresholds', 'thresholds', (x) => (x.thresholds === 0 ? 'none' : x.failedThresholds.length === 0 ? `${x.thresholds} held` : `${x.failedThresholds.length} of ${x.thresholds} failed: ${x.failedThresholds.join(', ')}`)],
    ['where', 'where', (x) => `${x.mode === 'local' ? 'this machine' : 'cluster'} · ${x.workers} worker${x.workers === 1 ? '' : 's'}`],
  ]
  return h(
    'section',
    { class: 'panel' },
    h('h2', {}, 'The runs'),
    h(
      'table',
      { id: 'compare-runs', class: 'data side-by-side' },
      h('thead', {}, h('tr', {}, h('th', {}, ''), h('th', {}, 'Base'), h('th', {}, 'Current'))),
      h(
        'tbody',
        {},
        ...rows.map(([key, label, fn]) => {
          const x = fn(b)
          const y = fn(c)
          return h('tr', { 'data-row': key, class: x !== y ? 'differs' : '' }, h('th', {}, label), h('td', { title: x }, x), h('td', { title: y }, y))
        }),
      ),
    ),
  )
}

/** What regressed and what improved, one line each. */
function findings(c: Comparison): HTMLElement | null {
  const regressions = c.regressionList ?? []
  const improvements = c.improvementList ?? []
  if (regressions.length === 0 && improvements.length === 0) return null
  const list = (id: string, title: string, items: Finding[]): HTMLElement | null =>
    items.length === 0
      ? null
      : h('div', { id, class: 'finding-list' }, h('h2', {}, `${title} (${items.length})`), h('ul', {}, ...items.map((i) => h('li', { title: `${i.subject}: ${i.detail}` }, h('span', { class: 'subject' }, i.subject), `: ${i.detail}`))))
  return h('section', { class: 'findings' }, list('regressions', 'Regressions', regressions), list('improvements', 'Improvements', improvements))
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
  const improvements = e.improvements ?? []
  const regressed = e.regressions.length > 0 || e.presence === 'gone'
  const parts = [
    ...(e.presence === 'gone' ? ['vanished'] : e.presence === 'new' ? ['new'] : []),
    ...(e.regressions.length > 0 ? [`regressed: ${e.regressions.map(label).join(', ')}`] : []),
    ...(improvements.length > 0 ? [`improved: ${improvements.map(label).join(', ')}`] : []),
  ]
  return h(
    'tr',
    { class: regressed ? 'regressed' : improvements.length > 0 ? 'improved' : '' },
    h('td', { class: 'method' }, e.method),
    h('td', { class: 'name', title: e.name }, h('div', { class: 'clip' }, e.name)),
    ...METRICS.map((m) => {
      const d = e[m.key]
      const cls = e.regressions.includes(m.key) ? ' bad' : improvements.includes(m.key) ? ' good' : ''
      return h('td', { class: `num delta${cls}` }, h('span', { class: 'was' }, d.base === null ? '–' : m.fmt(d.base)), ' → ', h('span', { class: 'now' }, d.current === null ? '–' : m.fmt(d.current)), h('span', { class: 'change' }, change(m.key, d)))
    }),
    h('td', { class: regressed ? 'flags bad' : improvements.length > 0 ? 'flags good' : 'flags' }, parts.join('; ')),
  )
}

function testRow(t: TestComparison): HTMLElement {
  const share = (v: number | null): string => (v === null ? '–' : f.percent(v))
  const flag = t.presence !== 'both' ? t.presence : t.regressed ? 'regressed' : t.improved ? 'improved' : ''
  return h(
    'tr',
    { class: t.regressed ? 'regressed' : t.improved ? 'improved' : '' },
    h('td', { class: 'name', title: t.name }, h('div', { class: 'clip' }, t.name)),
    h('td', { class: 'num' }, `${t.runs.base ?? '–'} → ${t.runs.current ?? '–'}`),
    h('td', { class: `num delta${t.regressed ? ' bad' : t.improved ? ' good' : ''}` }, h('span', { class: 'was' }, share(t.failedShare.base)), ' → ', h('span', { class: 'now' }, share(t.failedShare.current)), h('span', { class: 'change' }, change('failedShare', t.failedShare))),
    h('td', { class: t.regressed ? 'flags bad' : t.improved ? 'flags good' : 'flags' }, flag),
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
