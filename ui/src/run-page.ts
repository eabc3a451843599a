/**
 * The page of one run: the same for the live dashboard (updated every second) and the static
 * report (drawn once from embedded data).
 */
import { describeChangedStep } from '../../src/load/control.js'
import type { Plan, Step } from '../../src/load/plan.js'
import type { ReportView } from '../../src/report/result.js'
import type { ThresholdResult } from '../../src/report/thresholds/judge.js'
import type { EndpointSummary, ErrorGroup, NameSeries, SeriesPoint, SourceTotals, Unfinished } from '../../src/stats/types.js'
import { grpcStatusName } from '../../src/stats/grpc-status-names.js'
import { Chart, COLORS, type StepMark } from './charts.js'
import { changeMarks, ChangesList, ControlPanel } from './control-panel.js'
import { h, replace, text, type Child } from './dom.js'
import { endpointTable } from './endpoint-table.js'
import { GeneratorSection } from './generator-section.js'
import { MeasuredSection } from './measured-section.js'
import { MANY_NAMES, manyNamesWarning } from '../../src/report/many-names.js'
import { NamedSection } from './named-section.js'
import { ScenarioSection, scenariosPlanLine } from './scenario-section.js'
import * as f from './format.js'

export interface RunPageOptions {
  live: boolean
  /** Asks the runner to stop (the Stop button); resolves once it accepted. */
  onStop?: () => Promise<void>
  loadsVersion?: string
  generatedMs?: number
  /** Live control: the users / rate form and Pause (docs/live-control.md). */
  control?: boolean
  /**
   * A live page's source of one name's latency per second (the dashboard's `/api/name-series`);
   * a static report finds every name's in its data (`view.nameSeries`).
   */
  nameSeries?: (method: string, name: string) => Promise<NameSeries | undefined>
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
  /** While the run goes: the age of the oldest request in flight (a stall shows here first). */
  readonly #inFlight = h('div', { class: 'in-flight', 'data-in-flight': '', hidden: '' })
  readonly #kpis = new Map<string, { value: HTMLElement; sub: HTMLElement }>()
  readonly #thresholds = h('section', { class: 'thresholds', hidden: '' })
  readonly #endpoints = endpointTable()
  readonly #measured = new MeasuredSection()
  /** Past MANY_NAMES distinct URL names: what it costs and the fix (`name:`). */
  readonly #manyNames = h('div', { class: 'names-warning', role: 'status', 'data-many-names': '', hidden: '' })
  readonly #errorKinds = h('tbody')
  readonly #errorGroups = h('div', { class: 'error-groups' })
  readonly #sources = h('tbody')
  readonly #sourcesTitle = h('h2', {}, 'Workers')
  /** Live changes: their list, their marks on the charts, and the form of a live run. */
  readonly #marks = changeMarks()
  readonly #changes = new ChangesList()
  readonly #control: ControlPanel | undefined
  readonly #charts: Record<'hits' | 'latency' | 'errors' | 'users', Chart>
  readonly #generator = new GeneratorSection()
  readonly #named = new NamedSection()
  readonly #scenarios = new ScenarioSection()
  #lastErrorsKey: string | undefined
  /** The latency chart's URL-name picker: all URLs (''), or `METHOD name`. */
  readonly #latencyOf = h('select', { class: 'latency-of', 'data-latency-of': '', title: 'latency of all URLs together, or of one (method, name)' })
  readonly #pickable = new Set<string>()
  /** The picked name's series (undefined: none yet, or all URLs picked), and the last view's. */
  #picked: NameSeries | undefined
  #pickedFetch = 0
  #view: ReportView | undefined

  constructor(root: HTMLElement, opts: RunPageOptions) {
    this.#opts = opts
    this.#control = opts.live && opts.control === true ? new ControlPanel() : undefined
    this.#charts = {
      hits: new Chart({ plugins: [this.#marks.plugin], title: 'Hits per second', unit: 'hits/s', lines: [{ label: 'hits/s', color: COLORS.blue, fill: true }, { label: 'failed hits/s', color: COLORS.red }] }),
      latency: new Chart({
        plugins: [this.#marks.plugin],
        title: 'Latency',
        unit: 'ms',
        log: true,
        tool: h('label', { class: 'latency-of-label' }, 'of ', this.#latencyOf),
        lines: [
          { label: 'p50', color: COLORS.green },
          { label: 'p95', color: COLORS.amber },
          { label: 'p99', color: COLORS.red },
        ],
      }),
      errors: new Chart({
        plugins: [this.#marks.plugin],
        title: 'Errors per second',
        unit: 'per second',
        lines: [
          { label: 'network errors', color: COLORS.red, fill: true },
          { label: 'HTTP ≥ 400', color: COLORS.pink },
          { label: 'test failures', color: COLORS.amber },
          { label: 'test errors', color: COLORS.purple },
        ],
      }),
      users: new Chart({ plugins: [this.#marks.plugin], title: 'Active users', unit: 'users', lines: [{ label: 'users', color: COLORS.slate, fill: true, stepped: true }] }),
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
        h('section', { class: 'plan' }, this.#step, h('div', { class: 'progress' }, this.#progress), this.#inFlight, this.#control?.el, this.#changes.el),
        this.#measured.openModel,
        this.#manyNames,
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
        this.#generator.el,
        this.#scenarios.el,
        this.#named.el,
        h(
          'section',
          { class: 'panel' },
          h('h2', {}, 'Per URL', opts.live ? downloads() : null),
          this.#endpoints.el,
        ),
        this.#measured.el,
        h(
          'section',
          { class: 'row-2' },
          h('section', { class: 'panel' }, h('h2', {}, 'Errors by kind'), h('table', { id: 'error-kinds', class: 'data' }, headRow(['Kind', 'Failed hits', 'Test runs'], [1, 2]), this.#errorKinds)),
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
    this.#latencyOf.append(h('option', { value: '' }, 'all URLs'))
    this.#latencyOf.addEventListener('change', () => this.#pickName())
    for (const c of Object.values(this.#charts)) c.mount()
    this.#generator.mount()
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
    this.#marks.set(view)
    this.#changes.update(view)
    this.#control?.update(view)
    this.#updateKpis(view)
    this.#updateThresholds(view.thresholds, view.abortedBy, view.state === 'running')
    this.#view = view
    this.#updatePicker(s.endpoints)
    this.#updateCharts(view.series, view.state === 'running', run.startMs)
    if (this.#latencyOf.value !== '' && this.#opts.nameSeries !== undefined) void this.#fetchPicked()
    this.#generator.update(view)
    this.#scenarios.update(view)
    this.#named.update(view)
    this.#endpoints.update(s.endpoints)
    this.#manyNames.hidden = s.endpoints.length <= MANY_NAMES
    if (!this.#manyNames.hidden) text(this.#manyNames, `${manyNamesWarning(s.endpoints.length, view.state === 'running')}.`)
    this.#measured.update(view)
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
    const { plan } = view.run
    const steps = plan.steps
    const live = view.live
    const index = Math.min(live?.planStep ?? live?.step ?? lastStep(view.series), steps.length - 1)
    const step = steps[index]
    // As changed live: "10 users for 1m, changed at 00:42 to 200 users by the page" (docs/live-control.md).
    const what = step === undefined ? '' : describeChangedStep(describeStep(step), view.changes ?? [], index, view.run.startMs)
    let line: string
    if (view.state !== 'running') {
      const how = view.state === 'interrupted' ? 'Stopped' : 'Aborted'
      if (view.state === 'finished') line = steps.length > 1 ? `Last step ${index + 1} of ${steps.length}: ${what}` : `Plan: ${what}`
      else line = steps.length > 1 ? `${how} during step ${index + 1} of ${steps.length}: ${what}` : `Plan: ${what} (${how.toLowerCase()} early)`
    } else if (live !== undefined && step !== undefined && stepOver(step, live, view.nowMs)) {
      // The step's users are done and the next step has not started: a pause (or the end).
      const next = index + 1 < steps.length
      const leftMs = (live.stepStartedMs ?? 0) + (step.durationMs ?? 0) + (plan.pauseMs ?? 0) - view.nowMs
      line = !next
        ? `Finishing step ${index + 1} of ${steps.length}: ${what}`
        : `Pause after step ${index + 1} of ${steps.length}${plan.pauseMs !== undefined && step.durationMs !== undefined && leftMs > 0 ? `: step ${index + 2} starts in ${Math.ceil(leftMs / 1000)}s` : ''}`
    } else {
      line = steps.length > 1 ? `Step ${index + 1} of ${steps.length}: ${what}` : `Plan: ${what}`
    }
    // Scenarios run side by side: no single step is "the" step, and no bar measures them all.
    if (plan.scenarios !== undefined) line = describeChangedStep(scenariosPlanLine(plan, describeStep), view.changes ?? [], -1, view.run.startMs)
    text(this.#step, line)
    let ratio = plan.scenarios !== undefined ? undefined : progress(plan, view.run.tests.length, view.summary.tests.run, elapsedMs)
    // Only a plan that ran to its end is full: a stopped or aborted run shows how far it got.
    if (view.state === 'finished') ratio = 1
    else if (ratio !== undefined) ratio = Math.min(ratio, 0.999)
    this.#progress.style.width = `${Math.round((ratio ?? 0) * 1000) / 10}%`
    this.#progress.setAttribute('data-state', view.state)
    this.#progress.parentElement?.toggleAttribute('hidden', ratio === undefined)
    const age = view.state === 'running' ? live?.oldestInFlightMs : undefined
    this.#inFlight.hidden = age === undefined
    if (age !== undefined) {
      text(this.#inFlight, `oldest request in flight: ${age < 1000 ? `${Math.round(age)} ms` : `${(age / 1000).toFixed(1)} s`}`)
      // Past 2 s with nothing completing, it is a stall worth the eye.
      this.#inFlight.classList.toggle('bad', age >= 2000)
    }
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
    const failed = s.failed
    set('hits', f.int(s.hits), `↓ ${f.bytes(s.bytesIn)} · ↑ ${f.bytes(s.bytesOut)}`)
    set('rate', f.rate(view.live?.hitsPerSec ?? s.hitsPerSec), view.live !== undefined ? `average ${f.rate(s.hitsPerSec)}` : `over ${f.duration(s.durationMs)}`)
    set('p50', `${f.ms(s.latency.p50)} ms`, `mean ${f.ms(s.latency.mean)} ms`)
    set('p95', `${f.ms(s.latency.p95)} ms`, `p90 ${f.ms(s.latency.p90)} ms`)
    set('p99', `${f.ms(s.latency.p99)} ms`, `max ${f.ms(s.latency.max)} ms`)
    const stray = s.strayBytesDrops !== undefined ? ` · connections dropped: stray bytes from the server: ${f.int(s.strayBytesDrops)}` : ''
    set('failed', f.int(failed), `${s.hits > 0 ? f.percent(failed / s.hits) : '0%'} · ${f.int(s.networkErrors)} network · ${f.int(s.httpFailed)} HTTP${stray}`)
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

  #updateCharts(all: SeriesPoint[], running: boolean, startMs: number): void {
    // While the run goes, the newest second is still filling up: drawing it would show a dip.
    const series = running && all.length > 1 ? all.slice(0, -1) : all
    const x = series.map((p) => p.t)
    const steps = stepStarts(series)
    for (const c of Object.values(this.#charts)) {
      c.setClock(startMs)
      c.setSteps(steps)
    }
    this.#charts.hits.setData([x, series.map((p) => p.hits), series.map((p) => p.errors + (p.httpErrors ?? 0))])
    this.#drawLatency(series, x)
    // Results saved before httpErrors existed have none: draw them as zero.
    this.#charts.errors.setData([x, series.map((p) => p.errors), series.map((p) => p.httpErrors ?? 0), series.map((p) => p.failures), series.map((p) => p.testErrors)])
    this.#charts.users.setData([x, series.map((p) => p.activeUsers)])
  }

  /** New (method, name)s join the picker (appended: with 2,000 names nothing is rebuilt each second). */
  #updatePicker(endpoints: EndpointSummary[]): void {
    const added: HTMLOptionElement[] = []
    for (const e of endpoints) {
      const key = `${e.method} ${e.name}`
      if (this.#pickable.has(key)) continue
      this.#pickable.add(key)
      const option = h('option', { value: key }, key)
      option.dataset['method'] = e.method
      option.dataset['name'] = e.name
      added.push(option)
    }
    if (added.length > 0) this.#latencyOf.append(...added)
  }

  /** The picker changed: draw that name's latency (fetched on a live page), or all URLs'. */
  #pickName(): void {
    this.#picked = undefined
    const option = this.#latencyOf.selectedOptions[0]
    const chart = this.#charts.latency.el
    if (option === undefined || option.value === '') delete chart.dataset['latencyName']
    else chart.dataset['latencyName'] = option.value
    if (option !== undefined && option.value !== '' && this.#opts.nameSeries === undefined) {
      this.#picked = this.#view?.nameSeries?.find((n) => n.method === option.dataset['method'] && n.name === option.dataset['name']) ?? { method: option.dataset['method'] ?? '', name: option.dataset['name'] ?? '', t: [], p50: [], p95: [], p99: [] }
    }
    this.#redrawLatency()
    if (option !== undefined && option.value !== '' && this.#opts.nameSeries !== undefined) void this.#fetchPicked()
  }

  /** Live: the picked name's series from the runner (one request at a time; a later pick wins). */
  async #fetchPicked(): Promise<void> {
    const option = this.#latencyOf.selectedOptions[0]
    const source = this.#opts.nameSeries
    if (option === undefined || option.value === '' || source === undefined) return
    const ticket = ++this.#pickedFetch
    const series = await source(option.dataset['method'] ?? '', option.dataset['name'] ?? '').catch(() => undefined)
    if (ticket !== this.#pickedFetch || this.#latencyOf.value !== option.value) return
    this.#picked = series ?? { method: option.dataset['method'] ?? '', name: option.dataset['name'] ?? '', t: [], p50: [], p95: [], p99: [] }
    this.#redrawLatency()
  }

  #redrawLatency(): void {
    const view = this.#view
    if (view === undefined) return
    const all = view.series
    const series = view.state === 'running' && all.length > 1 ? all.slice(0, -1) : all
    this.#drawLatency(series, series.map((p) => p.t))
  }

  /**
   * All URLs' percentiles, or the picked name's on the same seconds: a second in which the name
   * had no completed hit is a gap, as the run-wide line's are.
   */
  #drawLatency(series: SeriesPoint[], x: number[]): void {
    const picked = this.#latencyOf.value === '' ? undefined : this.#picked
    if (picked === undefined && this.#latencyOf.value === '') {
      this.#charts.latency.setData([x, series.map((p) => p.p50), series.map((p) => p.p95), series.map((p) => p.p99)])
      return
    }
    const at = new Map<number, number>()
    picked?.t.forEach((t, i) => at.set(t, i))
    const pick = (list: number[] | undefined) => x.map((t) => {
      const i = at.get(t)
      return i === undefined || list === undefined ? null : (list[i] ?? null)
    })
    this.#charts.latency.setData([x, pick(picked?.p50), pick(picked?.p95), pick(picked?.p99)])
  }

  #updateErrors(view: ReportView): void {
    const s = view.summary
    const kinds = errorKinds(s.endpoints, s.errors)
    replace(
      this.#errorKinds,
      ...kinds.map((k) =>
        h('tr', {}, h('td', { class: 'kind' }, k.kind), h('td', { class: 'num' }, k.hits > 0 ? f.int(k.hits) : ''), h('td', { class: 'num' }, k.runs > 0 ? `${f.int(k.runs)} ${k.runsHow}` : '')),
      ),
    )
    if (kinds.length === 0) replace(this.#errorKinds, emptyRow(3, 'no errors'))
    // Rebuilding the details would close any the reader opened: only when they changed.
    const key = s.errors.map((g) => `${g.kind}|${g.test}|${g.count}|${g.message}`).join('\n')
    if (key === this.#lastErrorsKey) return
    this.#lastErrorsKey = key
    const shown = s.errors.slice(0, 50)
    const more = s.errors.length - shown.length
    replace(this.#errorGroups, ...shown.map(errorGroup), more > 0 ? h('p', { class: 'muted', 'data-more-groups': String(more) }, `and ${f.int(more)} more groups (the ${f.int(shown.length)} most frequent are shown; every group is in the JSON result)`) : null)
    if (s.errors.length === 0) replace(this.#errorGroups, h('p', { class: 'muted' }, 'No test failed or erred.'))
  }
}

function headRow(labels: string[], numeric: number[]): HTMLElement {
  return h('thead', {}, h('tr', {}, ...labels.map((l, i) => h('th', numeric.includes(i) ? { class: 'num' } : {}, l))))
}

function emptyRow(span: number, message: string): HTMLElement {
  return h('tr', { class: 'empty' }, h('td', { colspan: String(span) }, message))
}

function sourceRow(src: SourceTotals, view: ReportView): HTMLElement {
  const silentMs = view.nowMs - src.lastSeenMs
  // A cluster agent whose final snapshot never came says why once the run is over: never "stopped".
  const unfinished = src.final ? undefined : src.unfinished
  const state = src.final ? 'finished' : unfinished !== undefined ? unfinished.state : view.state !== 'running' ? 'stopped' : silentMs > SILENT_MS ? 'silent' : 'running'
  return h(
    'tr',
    { 'data-state': state, ...(unfinished !== undefined ? { class: 'unfinished' } : {}) },
    h('td', { class: 'name' }, src.source),
    unfinished !== undefined ? unfinishedCell(unfinished) : h('td', {}, h('span', { class: `dot ${state}` }), state),
    // A source whose final snapshot never came, once the run is over (unfinished, or "stopped": a
    // result written before sources carried `unfinished`): its last reported users are not its
    // users at the end, and how many it still ran is not known.
    h('td', { class: 'num' }, unfinished !== undefined || (!src.final && view.state !== 'running') ? '–' : f.int(src.final ? 0 : src.activeUsers)),
    h('td', { class: 'num' }, String(src.step + 1)),
    h('td', { class: 'num' }, f.int(src.hits)),
    h('td', { class: 'num' }, f.int(src.networkErrors)),
    h('td', { class: 'num' }, f.int(src.tests.run)),
    h('td', { class: 'num' }, f.int(src.tests.failures)),
    h('td', { class: 'num' }, f.int(src.tests.errors)),
    h('td', { class: 'num' }, src.lastSeenMs > 0 ? `${Math.max(0, Math.round(silentMs / 1000))}s ago` : '–'),
  )
}

/**
 * The state and the reason, as text: `lost: no heartbeat for 15.2 s`, `refused the run: …`. The
 * reason mostly starts with the state's word, which is then not said twice.
 */
function unfinishedCell(u: Unfinished): HTMLElement {
  const rest = u.reason.startsWith(u.state) ? u.reason.slice(u.state.length) : u.reason === '' ? '' : `: ${u.reason}`
  return h('td', { class: 'source-state unfinished' }, h('span', { class: 'dot unfinished' }), h('span', { class: 'state' }, u.state), rest !== '' ? h('span', { class: 'reason' }, rest) : null)
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
  if (g.hint !== undefined) children.push(h('p', { class: 'hint' }, `hint: ${g.hint}`))
  if (g.stack !== '') children.push(h('pre', { class: 'stack' }, g.stack))
  return h('details', { class: 'error-group' }, ...children)
}

/**
 * One row per agent of a cluster run. Today an agent sends one source (its id); results before
 * 2ee7cdb have `agent/worker-N` sources, whose workers are added up here. A row is finished when
 * all of its sources are, and as recently heard from as its most recent one.
 */
function byAgent(sources: SourceTotals[]): SourceTotals[] {
  const agents = new Map<string, SourceTotals>()
  for (const s of sources) {
    // An agent's workers (`agent/worker-N`, as results before 2ee7cdb name them) are one row;
    // anything else before them stays in the name: `run2/agent-a` of a merged report is
    // agent-a of the second run, not all of that run's agents together.
    const id = s.source.replace(/\/worker-\d+$/, '')
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
    // The cluster names the agent itself (not one of its workers) when its results stop short.
    if (s.unfinished !== undefined && (a.unfinished === undefined || s.source === id)) a.unfinished = s.unfinished
  }
  return [...agents.values()]
}

interface KindCount {
  kind: string
  /** Failed hits of this kind (network errors, unexpected statuses). */
  hits: number
  /** Test runs that ended with it: a refused connection a test did not catch is both. */
  runs: number
  runsHow: string
}

/**
 * One row per kind, most frequent first: failed hits and the test runs that ended with that kind
 * side by side, so a network error the test did not catch is one row, never two.
 */
function errorKinds(endpoints: EndpointSummary[], groups: ErrorGroup[]): KindCount[] {
  const map = new Map<string, KindCount>()
  const row = (kind: string): KindCount => {
    let r = map.get(kind)
    if (r === undefined) map.set(kind, (r = { kind, hits: 0, runs: 0, runsHow: '' }))
    return r
  }
  for (const e of endpoints) {
    for (const [kind, n] of Object.entries(e.errorKinds)) if (n > 0) row(kind).hits += n
    if (e.method === 'GRPC') {
      // A call fails on any status but OK (0): by name, as the gRPC spec spells it.
      for (const [code, n] of Object.entries(e.statuses)) if (code !== '0' && n > 0) row(`gRPC ${grpcStatusName(Number(code))}`).hits += n
      continue
    }
    const statuses = Object.entries(e.statuses).filter(([status, n]) => Number(status) >= 400 && n > 0)
    const atLeast400 = statuses.reduce((n, [, c]) => n + c, 0)
    const httpFailed = e.failed - e.errors
    // Per status when the failures are exactly the statuses ≥ 400 (no `expect` changed them).
    if (httpFailed === atLeast400) for (const [status, n] of statuses) row(`HTTP ${status}`).hits += n
    else if (httpFailed > 0) row('HTTP status not expected').hits += httpFailed
  }
  for (const g of groups) {
    const r = row(g.kind)
    r.runs += g.count
    const how = g.outcome === 'failure' ? 'failed' : 'erred'
    r.runsHow = r.runsHow === '' || r.runsHow === how ? how : 'failed or erred'
  }
  return [...map.values()].sort((a, b) => Math.max(b.hits, b.runs) - Math.max(a.hits, a.runs) || a.kind.localeCompare(b.kind))
}

function firstLine(s: string): string {
  const line = s.split('\n', 1)[0] ?? ''
  return line.length > 160 ? `${line.slice(0, 159)}…` : line
}

/** The dashboard's downloads (dashboard/downloads.ts): the run so far, as the output files have it. */
function downloads(): HTMLElement {
  return h(
    'span',
    { class: 'downloads' },
    'download ',
    h('a', { href: 'api/download/result.json', download: '', 'data-download': 'json' }, 'JSON'),
    ' · ',
    h('a', { href: 'api/download/endpoints.csv', download: '', 'data-download': 'csv' }, 'CSV'),
  )
}

/** The first second of each step after the first (a step's number rises in the series there). */
export function stepStarts(series: SeriesPoint[]): StepMark[] {
  const marks: StepMark[] = []
  let step = series[0]?.step ?? 0
  for (const p of series) {
    if (p.step > step) marks.push({ t: p.t, step: p.step })
    step = Math.max(step, p.step)
  }
  return marks
}

function lastStep(series: SeriesPoint[]): number {
  return series.at(-1)?.step ?? 0
}

export function describeStep(step: Step): string {
  if (step.rate !== undefined) return `rate ${step.rate}/s for ${f.shortDuration(step.durationMs ?? 0)} (at most ${f.int(step.users)} in flight)`
  const users = `${step.users} user${step.users === 1 ? '' : 's'}`
  return step.hits !== undefined ? `${users} × ${step.hits} run${step.hits === 1 ? '' : 's'}` : `${users} for ${f.shortDuration(step.durationMs ?? 0)}`
}

/**
 * Whether the step now running is over though the next has not started: its time is up, or (a
 * step of runs) its users all finished. A step just started is never over.
 */
function stepOver(step: Step, live: NonNullable<ReportView['live']>, nowMs: number): boolean {
  if (live.stepStartedMs === undefined) return false
  const sinceMs = nowMs - live.stepStartedMs
  if (step.durationMs !== undefined) return sinceMs >= step.durationMs
  return sinceMs > 2000 && live.activeUsers === 0
}

/** Share of the plan done, pauses between steps included: by test runs when the plan counts runs, else by time. */
function progress(plan: Plan, testsPerRun: number, runs: number, elapsedMs: number): number | undefined {
  if (plan.steps.every((s) => s.hits !== undefined)) {
    const total = plan.steps.reduce((n, s) => n + s.users * (s.hits ?? 0), 0) * Math.max(1, testsPerRun)
    return total > 0 ? Math.min(1, runs / total) : undefined
  }
  if (plan.steps.every((s) => s.durationMs !== undefined)) {
    const total = plan.steps.reduce((n, s) => n + (s.durationMs ?? 0), 0) + (plan.pauseMs ?? 0) * (plan.steps.length - 1)
    return total > 0 ? Math.min(1, elapsedMs / total) : undefined
  }
  return undefined
}
