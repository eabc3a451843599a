/**
 * The page's "Generator" section: whether Loads itself kept up (docs/generator-health.md). Its
 * warnings (who stayed over a bound, when, and what to do), two charts on the latency charts'
 * time axis (the busiest source's event-loop utilisation; the worst event-loop delay p99), and
 * each worker's or agent's figures over the run. Hidden for results without them.
 */
import type { ReportView } from '../../src/report/result.js'
import { describeGeneratorWarning, GENERATOR_ADVICE } from '../../src/report/generator-advice.js'
import type { GeneratorSeries, GeneratorSourceSummary, GeneratorSummary } from '../../src/stats/generator-types.js'
import { Chart, COLORS } from './charts.js'
import { h, replace } from './dom.js'
import * as f from './format.js'

export class GeneratorSection {
  readonly el: HTMLElement
  readonly #warnings = h('div', { class: 'generator-warnings', role: 'status' })
  readonly #sources = h('tbody')
  readonly #elu = new Chart({
    title: 'Generator: event-loop utilisation',
    unit: '%',
    lines: [
      { label: 'busiest', color: COLORS.purple, fill: true },
      { label: 'mean', color: COLORS.slate },
      { label: 'warned at', color: COLORS.red, dash: [4, 4] },
    ],
  })
  readonly #delay = new Chart({
    title: 'Generator: event-loop delay p99',
    unit: 'ms',
    lines: [
      { label: 'worst', color: COLORS.purple, fill: true },
      { label: 'warned at', color: COLORS.red, dash: [4, 4] },
    ],
  })

  constructor() {
    this.el = h(
      'section',
      { class: 'generator', 'data-section': 'generator', hidden: '' },
      this.#warnings,
      h('section', { class: 'charts' }, this.#elu.el, this.#delay.el),
      h(
        'section',
        { class: 'panel' },
        h('h2', {}, 'Generator health'),
        h(
          'div',
          { class: 'table-wrap' },
          h(
            'table',
            { id: 'generator-sources', class: 'data' },
            h('thead', {}, h('tr', {}, ...['Source', 'Threads', 'Util max', 'Util p95', 'Delay p99 ms', 'Delay max ms', 'CPU max', 'RSS max', 'Host load'].map((l, i) => h('th', i > 0 ? { class: 'num' } : {}, l)))),
            this.#sources,
          ),
        ),
      ),
    )
  }

  /** Draws the charts once the section is in the document. */
  mount(): void {
    this.#elu.mount()
    this.#delay.mount()
  }

  update(view: ReportView): void {
    const g = view.summary.generator
    this.el.hidden = g === undefined
    if (g === undefined) return
    this.#updateWarnings(g)
    this.#updateCharts(view, g)
    replace(this.#sources, ...g.sources.map((s) => sourceRow(s, g)))
  }

  #updateWarnings(g: GeneratorSummary): void {
    this.#warnings.hidden = g.warnings.length === 0
    replace(
      this.#warnings,
      h('h2', {}, 'Loads itself may have been the bottleneck'),
      h('ul', {}, ...g.warnings.map((w) => h('li', { 'data-source': w.source, 'data-kind': w.kind }, describeGeneratorWarning(w, g.limits)))),
      h('p', { class: 'advice' }, `${GENERATOR_ADVICE.charAt(0).toUpperCase()}${GENERATOR_ADVICE.slice(1)}.`),
    )
  }

  /** On the latency series' seconds (the same x as the other charts), null where none reported. */
  #updateCharts(view: ReportView, g: GeneratorSummary): void {
    const running = view.state === 'running'
    const all = view.series
    const x = (running && all.length > 1 ? all.slice(0, -1) : all).map((p) => p.t)
    const s: GeneratorSeries | undefined = view.generatorSeries
    const at = new Map<number, number>()
    s?.t.forEach((t, i) => at.set(t, i))
    const col = (values: number[] | undefined, scale: number): (number | null)[] =>
      x.map((t) => {
        const i = at.get(t)
        const v = i !== undefined ? values?.[i] : undefined
        return v === undefined ? null : v * scale
      })
    this.#elu.setData([x, col(s?.eluMax, 100), col(s?.eluMean, 100), x.map(() => g.limits.elu * 100)])
    this.#delay.setData([x, col(s?.delayP99Max, 1), x.map(() => g.limits.delayMs)])
  }
}

function sourceRow(s: GeneratorSourceSummary, g: GeneratorSummary): HTMLElement {
  const warned = g.warnings.some((w) => w.source === s.source)
  return h(
    'tr',
    { 'data-source': s.source, ...(warned ? { class: 'bad' } : {}) },
    h('td', { class: 'name' }, s.source),
    h('td', { class: 'num' }, f.int(s.threads)),
    h('td', { class: 'num' }, percent(s.elu.max)),
    h('td', { class: `num${s.elu.p95 >= g.limits.elu ? ' bad' : ''}` }, percent(s.elu.p95)),
    h('td', { class: `num${s.delay.p99 >= g.limits.delayMs ? ' bad' : ''}` }, f.ms(s.delay.p99)),
    h('td', { class: 'num' }, f.ms(s.delay.max)),
    h('td', { class: 'num' }, `${s.cpuMax.toFixed(2)} cores`),
    h('td', { class: 'num' }, f.bytes(s.rssMaxBytes)),
    h('td', { class: 'num' }, `${s.load1Max.toFixed(2)} / ${s.cores}`),
  )
}

function percent(fraction: number): string {
  return `${Math.round(fraction * 100)}%`
}
