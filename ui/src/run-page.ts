/**
 * The page of one run: the same for the live dashboard (updated every second) and the static
 * report (drawn once from embedded data).
 */
import type { Plan, Step } from '../../src/load/plan.js'
import type { ReportView } from '../../src/report/result.js'
import type { ThresholdResult } from '../../src/report/thresholds/judge.js'
import type { EndpointSummary, ErrorGroup, SeriesPoint, SourceTotals } from '../../src/stats/types.js'
import { Chart, COLORS } from './charts.js'
import { h, replace, text, type Child } from './dom.js'
import * as f from './format.js'

export interface RunPageOptions {
  live: boolean
  /** Asks the runner to stop (the Stop button); resolves once it accepted. */
  onStop?: () => Promise<void>
  loadsVersion?: string
  generatedMs?: number
}

/** A source silent for longer than this is shown as such (a lost agent, a stuck worker). */
const SILENT_MS = 5000

export class RunPage {
  readonly #opts: RunPageOptions
  readonly #title = h('h1', { class: 'address' })
  readonly #subtitle = h('div', { class: 'subtitle' })
  readonly #badge = h('span', { class: 'badge', 'data-state': 'running' })
  readonly #elapsed = h('span', { class: 'elapsed', title: 'elapsed' })
  readonly #stop = h('button', { class: 'stop', type: 'button', title: 'Stop the run gracefully: the results so far are kept' }, 'Stop')
  readonly #step = h('div', { class: 'step' })
  readonly #progress = h('div', { class: 'progress-fill' })
  readonly #kpis = new Map<string, { value: HTMLElement; sub: HTMLElement }>()
  readonly #thresholds = h('section', { class: 'thresholds', hidden: '' })
  readonly #endpoints = h('tbody')
  readonly #errorKinds = h('tbody')
  readonly #errorGroups = h('div', { class: 'error-groups' })
  readonly #sources = h('tbody')
  readonly #sourcesTitle = h('h2', {}, 'Workers')
  readonly #charts: Record<'hits' | 'latency' | 'errors' | 'users', Chart>
  #lastErrorsKey = ''

  constructor(root: HTMLElement, opts: RunPageOptions) {
    this.#opts = opts
    this.#charts = {
      hits: new Chart({ title: 'Hits per second', unit: 'hits/s', lines: [{ label: 'hits/s', color: COLORS.blue, fill: true }, { label: 'failed hits/s', color: COLORS.red }] }),
      latency: new Chart({
        title: 'Latency',
        unit: 'ms',
        lines: [
          { label: 'p50', color: COLORS.green },
          { label: 'p95', color: COLORS.amber },
          { label: 'p99', color: COLORS.red },
        ],
      }),
      errors: new Chart({
        title: 'Errors per second',
        unit: 'per second',
        lines: [
          { label: 'network errors', color: COLORS.red, fill: true },
          { label: 'HTTP ≥ 400', color: COLORS.pink },
          { label: 'test failures', color: COLORS.amber },
          { label: 'test errors', color: COLORS.purple },
        ],
      }),
      users: new Chart({ title: 'Active users', unit: 'users', lines: [{ label: 'users', color: COLORS.slate, fill: true, stepped: true }] }),
    }
    const kpi = (key: string, label: string): HTMLElement => {
      const value = h('div', { class: 'kpi-value' }, '–')
      const sub = h('div', { class: 'kpi-sub' })
      this.#kpis.set(key, { value, sub })
      return h('div', { class: 'kpi', 'data-kpi': key }, h('div', { class: 'kpi-label' }, label), value, sub)
    }
    this.#stop.hidden = !opts.live || opts.onStop === undefined
    this.#stop.addEventListener('click', () => void this.#onStop())

    root.replaceChildren(
      h(
        'header',
        { class: 'top' },
        h('div', { class: 'brand' }, 'Loads'),
        h('div', { class: 'heading' }, this.#title, this.#subtitle),
        h('div', { class: 'status' }, this.#badge, this.#elapsed, this.#stop),
      ),
      h('main', {},
        h('section', { class: 'plan' }, this.#step, h('div', { class: 'progress' }, this.#progress)),
        h(
          'section',
          { class: 'kpis' },
          kpi('hits', 'Hits'),
          kpi('rate', opts.live ? 'Hits/s (last 2 s)' : 'Hits/s (average)'),
          kpi('p50', 'p50 latency'),
          kpi('p95', 'p95 latency'),
          kpi('p99', 'p99 latency'),
          kpi('failed', 'Failed hits'),
          kpi('tests', 'Test runs'),
          kpi('users', 'Active users'),
        ),
        this.#thresholds,
        h('section', { class: 'charts' }, this.#charts.hits.el, this.#charts.latency.el, this.#charts.errors.el, this.#charts.users.el),
        h(
          'section',
          { class: 'panel' },
          h('h2', {}, 'Per URL'),
          h(
            'div',
            { class: 'table-wrap' },
            h('table', { id: 'endpoints', class: 'data' }, headRow(['Method', 'Name', 'Hits', 'Hits/s', 'p50 ms', 'p95 ms', 'p99 ms', 'Max ms', 'Failed', 'Statuses'], [2, 3, 4, 5, 6, 7, 8]), this.#endpoints),
          ),
        ),
        h(
          'section',
          { class: 'row-2' },
          h('section', { class: 'panel' }, h('h2', {}, 'Errors by kind'), h('table', { id: 'error-kinds', class: 'data' }, headRow(['Kind', 'Where', 'Count'], [2]), this.#errorKinds)),
          h(
            'section',
            { class: 'panel' },
            this.#sourcesTitle,
            h('div', { class: 'table-wrap' }, h('table', { id: 'sources', class: 'data' }, headRow(['Source', 'State', 'Users', 'Step', 'Hits', 'Net err', 'Tests', 'Fail', 'Err', 'Heard'], [2, 3, 4, 5, 6, 7, 8, 9]), this.#sources)),
          ),
        ),
        h('section', { class: 'panel' }, h('h2', {}, 'Error details'), this.#errorGroups),
      ),
      h('footer', {}, `Loads ${opts.loadsVersion ?? ''}`.trim(), opts.generatedMs !== undefined ? ` · report generated ${f.clock(opts.generatedMs)}` : ' · live dashboard'),
    )
    for (const c of Object.values(this.#charts)) c.mount()
  }

  update(view: ReportView): void {
    const { run, summary: s } = view
    text(this.#title, run.address)
    const tests = run.tests.map((t) => `${t.className}.${t.methodName}`).join(', ')
    text(this.#subtitle, `${tests} · ${run.mode === 'cluster' ? `cluster, ${run.workers} workers per agent` : `${run.workers} worker${run.workers === 1 ? '' : 's'}`} · started ${f.clock(run.startMs)}`)
    this.#badge.setAttribute('data-state', view.state === 'finished' && (view.exitCode ?? 0) !== 0 ? 'failed' : view.state)
    text(this.#badge, view.state === 'running' ? 'running' : `${view.state}${view.exitCode !== undefined ? ` · exit ${view.exitCode}` : ''}`)
    const elapsed = view.live?.elapsedMs ?? s.durationMs
    text(this.#elapsed, f.duration(elapsed))
    if (view.state !== 'running') this.#stop.hidden = true

    this.#updatePlan(view, elapsed)
    this.#updateKpis(view)
    this.#updateThresholds(view.thresholds, view.abortedBy, view.state === 'running')
    this.#updateCharts(view.series, view.state === 'running')
    replace(this.#endpoints, ...s.endpoints.map(endpointRow))
    if (s.endpoints.length === 0) replace(this.#endpoints, emptyRow(10, 'no hits yet'))
    this.#updateErrors(view)
    this.#sourcesTitle.textContent = run.mode === 'cluster' ? 'Agents' : 'Workers'
    // By name, so rows keep their place whichever source spoke first.
    const sources = (run.mode === 'cluster' ? byAgent(view.sources) : [...view.sources]).sort((a, b) => a.source.localeCompare(b.source, 'en', { numeric: true }))
    replace(this.#sources, ...sources.map((src) => sourceRow(src, view)))
    if (view.sources.length === 0) replace(this.#sources, emptyRow(10, 'no source heard from yet'))
  }

  async #onStop(): Promise<void> {
    if (this.#opts.onStop === undefined) return
    this.#stop.disabled = true
    text(this.#stop, 'Stopping…')
    try {
      await this.#opts.onStop()
    } catch {
      this.#stop.disabled = false
      text(this.#stop, 'Stop')
    }
  }

  #updatePlan(view: ReportView, elapsedMs: number): void {
    const steps = view.run.plan.steps
    const index = Math.min(view.live?.step ?? lastStep(view.series), steps.length - 1)
    const step = steps[index]
    const what = step === undefined ? '' : describeStep(step)
    const prefix = view.state === 'running' ? 'Step' : 'Last step'
    text(this.#step, steps.length > 1 ? `${prefix} ${index + 1} of ${steps.length}: ${what}` : `${view.state === 'running' ? 'Plan' : 'Plan'}: ${what}`)
    let ratio = progress(view.run.plan, view.run.tests.length, view.summary.tests.run, elapsedMs)
    if (view.state === 'finished') ratio = 1
    this.#progress.style.width = `${Math.round((ratio ?? 0) * 100)}%`
    this.#progress.parentElement?.toggleAttribute('hidden', ratio === undefined)
  }

  #updateKpis(view: ReportView): void {
    const s = view.summary
    const rateLabel = this.#kpis.get('rate')?.value.parentElement?.querySelector('.kpi-label')
    if (rateLabel) text(rateLabel, view.live !== undefined ? 'Hits/s (last 2 s)' : 'Hits/s (average)')
    const set = (key: string, value: string, sub = ''): void => {
      const k = this.#kpis.get(key)
      if (k === undefined) return
      text(k.value, value)
      text(k.sub, sub)
    }
    const failed = s.endpoints.reduce((n, e) => n + failedOf(e), 0)
    set('hits', f.int(s.hits), `↓ ${f.bytes(s.bytesIn)} · ↑ ${f.bytes(s.bytesOut)}`)
    set('rate', f.rate(view.live?.hitsPerSec ?? s.hitsPerSec), view.live !== undefined ? `average ${f.rate(s.hitsPerSec)}` : `over ${f.duration(s.durationMs)}`)
    set('p50', `${f.ms(s.latency.p50)} ms`, `mean ${f.ms(s.latency.mean)} ms`)
    set('p95', `${f.ms(s.latency.p95)} ms`, `p90 ${f.ms(s.latency.p90)} ms`)
    set('p99', `${f.ms(s.latency.p99)} ms`, `max ${f.ms(s.latency.max)} ms`)
    set('failed', f.int(failed), `${s.hits > 0 ? f.percent(failed / s.hits) : '0%'} · ${f.int(s.networkErrors)} net`)
    set('tests', f.int(s.tests.run), `${f.int(s.tests.failures)} fail · ${f.int(s.tests.errors)} err`)
    const users = view.live?.activeUsers ?? view.series.at(-1)?.activeUsers ?? 0
    set('users', f.int(view.state === 'running' ? users : 0), view.state === 'running' ? `${view.live?.finishedSources ?? 0} of ${view.live?.sources ?? 0} sources done` : 'run over')
    const failedKpi = this.#kpis.get('failed')?.value.parentElement
    failedKpi?.classList.toggle('bad', failed > 0)
    this.#kpis.get('tests')?.value.parentElement?.classList.toggle('bad', s.tests.failures + s.tests.errors > 0)
  }

  #updateThresholds(results: ThresholdResult[], abortedBy: string | undefined, running: boolean): void {
    this.#thresholds.hidden = results.length === 0
    if (results.length === 0) return
    const failed = results.filter((r) => !r.pass).length
    replace(
      this.#thresholds,
      h('h2', {}, `${running ? 'Thresholds so far' : 'Thresholds'}: ${failed === 0 ? `all ${results.length} pass` : `${failed} of ${results.length} fail`}`),
      h(
        'ul',
        { class: 'threshold-list' },
        ...results.map((r) =>
          h(
            'li',
            { class: r.pass ? 'pass' : 'fail', 'data-threshold': r.threshold },
            h('span', { class: 'mark' }, r.pass ? '✓' : '✗'),
            h('span', { class: 'threshold' }, r.threshold),
            h('span', { class: 'measured' }, `${r.metric} ${r.measuredText}`),
          ),
        ),
      ),
      abortedBy !== undefined ? h('p', { class: 'aborted' }, `Stopped early by --abort-on-fail: ${abortedBy} failed for good.`) : null,
    )
  }

  #updateCharts(all: SeriesPoint[], running: boolean): void {
    // While the run goes, the newest second is still filling up: drawing it would show a dip.
    const series = running && all.length > 1 ? all.slice(0, -1) : all
    const x = series.map((p) => p.t)
    this.#charts.hits.setData([x, series.map((p) => p.hits), series.map((p) => p.errors + (p.httpErrors ?? 0))])
    this.#charts.latency.setData([x, series.map((p) => p.p50), series.map((p) => p.p95), series.map((p) => p.p99)])
    // Results saved before httpErrors existed have none: draw them as zero.
    this.#charts.errors.setData([x, series.map((p) => p.errors), series.map((p) => p.httpErrors ?? 0), series.map((p) => p.failures), series.map((p) => p.testErrors)])
    this.#charts.users.setData([x, series.map((p) => p.activeUsers)])
  }

  #updateErrors(view: ReportView): void {
    const s = view.summary
    const kinds = errorKinds(s.endpoints, s.errors)
    replace(this.#errorKinds, ...kinds.map((k) => h('tr', {}, h('td', { class: 'kind' }, k.kind), h('td', {}, k.where), h('td', { class: 'num' }, f.int(k.count)))))
    if (kinds.length === 0) replace(this.#errorKinds, emptyRow(3, 'no errors'))
    // Rebuilding the details would close any the reader opened: only when they changed.
    const key = s.errors.map((g) => `${g.kind}|${g.test}|${g.count}|${g.message}`).join('\n')
    if (key === this.#lastErrorsKey) return
    this.#lastErrorsKey = key
    replace(this.#errorGroups, ...s.errors.slice(0, 50).map(errorGroup))
    if (s.errors.length === 0) replace(this.#errorGroups, h('p', { class: 'muted' }, 'No test failed or erred.'))
  }
}

function headRow(labels: string[], numeric: number[]): HTMLElement {
  return h('thead', {}, h('tr', {}, ...labels.map((l, i) => h('th', numeric.includes(i) ? { class: 'num' } : {}, l))))
}

function emptyRow(span: number, message: string): HTMLElement {
  return h('tr', { class: 'empty' }, h('td', { colspan: String(span) }, message))
}

function endpointRow(e: EndpointSummary): HTMLElement {
  const failed = failedOf(e)
  return h(
    'tr',
    {},
    h('td', { class: 'method' }, e.method),
    h('td', { class: 'name', title: e.name }, e.name),
    h('td', { class: 'num hits' }, f.int(e.hits)),
    h('td', { class: 'num' }, f.rate(e.hitsPerSec)),
    h('td', { class: 'num' }, f.ms(e.latency.p50)),
    h('td', { class: 'num' }, f.ms(e.latency.p95)),
    h('td', { class: 'num' }, f.ms(e.latency.p99)),
    h('td', { class: 'num' }, f.ms(e.latency.max)),
    h('td', { class: `num${failed > 0 ? ' bad' : ''}` }, f.int(failed)),
    h('td', { class: 'statuses' }, f.counts({ ...e.statuses, ...e.errorKinds })),
  )
}

function sourceRow(src: SourceTotals, view: ReportView): HTMLElement {
  const silentMs = view.nowMs - src.lastSeenMs
  const state = src.final ? 'finished' : view.state !== 'running' ? 'stopped' : silentMs > SILENT_MS ? 'silent' : 'running'
  return h(
    'tr',
    { 'data-state': state },
    h('td', { class: 'name' }, src.source),
    h('td', {}, h('span', { class: `dot ${state}` }), state),
    h('td', { class: 'num' }, f.int(src.final ? 0 : src.activeUsers)),
    h('td', { class: 'num' }, String(src.step + 1)),
    h('td', { class: 'num' }, f.int(src.hits)),
    h('td', { class: 'num' }, f.int(src.networkErrors)),
    h('td', { class: 'num' }, f.int(src.tests.run)),
    h('td', { class: 'num' }, f.int(src.tests.failures)),
    h('td', { class: 'num' }, f.int(src.tests.errors)),
    h('td', { class: 'num' }, src.lastSeenMs > 0 ? `${Math.max(0, Math.round(silentMs / 1000))}s ago` : '–'),
  )
}

function errorGroup(g: ErrorGroup): HTMLElement {
  const children: Child[] = [
    h(
      'summary',
      {},
      h('span', { class: `count ${g.outcome}` }, `${f.int(g.count)}×`),
      h('span', { class: 'kind' }, g.kind),
      h('span', { class: 'test' }, g.test),
      h('span', { class: 'message' }, firstLine(g.message)),
    ),
    h('pre', { class: 'message-full' }, g.message),
  ]
  if (g.stack !== '') children.push(h('pre', { class: 'stack' }, g.stack))
  return h('details', { class: 'error-group' }, ...children)
}

/**
 * A cluster run's sources are `agent/worker-N`: one row per agent, its workers added up. It is
 * finished when all of them are, and as recently heard from as its most recent worker.
 */
function byAgent(sources: SourceTotals[]): SourceTotals[] {
  const agents = new Map<string, SourceTotals>()
  for (const s of sources) {
    const id = s.source.split('/')[0] ?? s.source
    const a = agents.get(id)
    if (a === undefined) {
      agents.set(id, { ...s, source: id, tests: { ...s.tests }, activeUsers: s.final ? 0 : s.activeUsers })
      continue
    }
    a.hits += s.hits
    a.networkErrors += s.networkErrors
    a.tests.run += s.tests.run
    a.tests.failures += s.tests.failures
    a.tests.errors += s.tests.errors
    a.activeUsers += s.final ? 0 : s.activeUsers
    a.step = Math.max(a.step, s.step)
    a.lastSeenMs = Math.max(a.lastSeenMs, s.lastSeenMs)
    a.final = a.final && s.final
  }
  return [...agents.values()]
}

interface KindCount {
  kind: string
  where: string
  count: number
}

/** Network error kinds, HTTP error statuses and test exceptions, most frequent first. */
function errorKinds(endpoints: EndpointSummary[], groups: ErrorGroup[]): KindCount[] {
  const map = new Map<string, KindCount>()
  const add = (kind: string, where: string, n: number): void => {
    const k = `${where}|${kind}`
    const prev = map.get(k)
    if (prev === undefined) map.set(k, { kind, where, count: n })
    else prev.count += n
  }
  for (const e of endpoints) {
    for (const [kind, n] of Object.entries(e.errorKinds)) if (n > 0) add(kind, 'network', n)
    for (const [status, n] of Object.entries(e.statuses)) if (Number(status) >= 400 && n > 0) add(`HTTP ${status}`, 'response', n)
  }
  for (const g of groups) add(g.kind, g.outcome === 'failure' ? 'test failure' : 'test error', g.count)
  return [...map.values()].sort((a, b) => b.count - a.count || a.kind.localeCompare(b.kind))
}

function failedOf(e: EndpointSummary): number {
  let n = e.errors
  for (const [status, c] of Object.entries(e.statuses)) if (Number(status) >= 400) n += c
  return n
}

function firstLine(s: string): string {
  const line = s.split('\n', 1)[0] ?? ''
  return line.length > 160 ? `${line.slice(0, 159)}…` : line
}

function lastStep(series: SeriesPoint[]): number {
  return series.at(-1)?.step ?? 0
}

export function describeStep(step: Step): string {
  return step.hits !== undefined ? `${step.users} users × ${step.hits} runs` : `${step.users} users for ${f.shortDuration(step.durationMs ?? 0)}`
}

/** Share of the plan done: by test runs when the plan counts runs, else by time. */
function progress(plan: Plan, testsPerRun: number, runs: number, elapsedMs: number): number | undefined {
  if (plan.steps.every((s) => s.hits !== undefined)) {
    const total = plan.steps.reduce((n, s) => n + s.users * (s.hits ?? 0), 0) * Math.max(1, testsPerRun)
    return total > 0 ? Math.min(1, runs / total) : undefined
  }
  if (plan.steps.every((s) => s.durationMs !== undefined)) {
    const total = plan.steps.reduce((n, s) => n + (s.durationMs ?? 0), 0)
    return total > 0 ? Math.min(1, elapsedMs / total) : undefined
  }
  return undefined
}
