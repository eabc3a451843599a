/**
 * The page's checks, groups and test methods (docs/traffic-models.md): pass rates per check,
 * and each group's and test method's runs, failures and wall-time percentiles. A compact panel,
 * hidden when the run has none of them.
 */
import type { ReportView } from '../../src/report/result.js'
import type { TimedSummary } from '../../src/stats/types.js'
import { h, replace } from './dom.js'
import * as f from './format.js'

export class NamedSection {
  readonly el: HTMLElement
  readonly #checks = h('tbody')
  readonly #timed = h('tbody')
  readonly #checksWrap: HTMLElement

  constructor() {
    const head = (labels: string[]): HTMLElement => h('thead', {}, h('tr', {}, ...labels.map((l, i) => h('th', i > 0 ? { class: 'num' } : {}, l))))
    this.#checksWrap = h('div', { class: 'table-wrap' }, h('table', { id: 'checks', class: 'data' }, head(['Check', 'Passed', 'Passes', 'Failures']), this.#checks))
    this.el = h(
      'section',
      { class: 'panel', 'data-section': 'checks-groups', hidden: '' },
      h('h2', {}, 'Checks, groups and test methods'),
      this.#checksWrap,
      h('div', { class: 'table-wrap' }, h('table', { id: 'groups-methods', class: 'data' }, head(['Group / test', 'Runs', 'Failures', 'Errors', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms']), this.#timed)),
    )
  }

  update(view: ReportView): void {
    const s = view.summary
    const checks = s.checks ?? []
    const timed: [string, TimedSummary][] = [...(s.groups ?? []).map((g): [string, TimedSummary] => ['group', g]), ...(s.methods ?? []).map((m): [string, TimedSummary] => ['test', m])]
    // Test methods are shown too: each method's runs, failures, errors and run duration.
    this.el.hidden = checks.length === 0 && timed.length === 0
    if (this.el.hidden) return
    this.#checksWrap.hidden = checks.length === 0
    replace(
      this.#checks,
      ...checks.map((c) => {
        const total = c.passes + c.failures
        return h('tr', { 'data-check': c.name }, h('td', {}, c.name), h('td', { class: 'num' }, total > 0 ? f.percent(c.passes / total) : '–'), h('td', { class: 'num' }, f.int(c.passes)), h('td', { class: 'num' }, f.int(c.failures)))
      }),
    )
    replace(
      this.#timed,
      ...timed.map(([kind, t]) =>
        h(
          'tr',
          { [`data-${kind}`]: t.name },
          h('td', {}, `${kind === 'group' ? 'group ' : ''}${t.name}`),
          h('td', { class: 'num' }, f.int(t.runs)),
          h('td', { class: 'num' }, f.int(t.failures)),
          h('td', { class: 'num' }, f.int(t.errors)),
          h('td', { class: 'num' }, f.ms(t.duration.p50)),
          h('td', { class: 'num' }, f.ms(t.duration.p95)),
          h('td', { class: 'num' }, f.ms(t.duration.p99)),
          h('td', { class: 'num' }, f.ms(t.duration.max)),
        ),
      ),
    )
  }
}
