/**
 * The page's config-file scenarios (docs/traffic-models.md#scenarios): each scenario's start
 * offset, test runs, hits, failed hits and hit latency percentiles. A compact panel, hidden for
 * runs without scenarios.
 */
import type { Plan, Step } from '../../src/load/plan.js'
import type { ReportView } from '../../src/report/result.js'
import { h, replace } from './dom.js'
import * as f from './format.js'

export class ScenarioSection {
  readonly el: HTMLElement
  readonly #rows = h('tbody')

  constructor() {
    const labels = ['Scenario', 'Starts at', 'Runs', 'Failed runs', 'Hits', 'Failed hits', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms']
    this.el = h(
      'section',
      { class: 'panel', 'data-section': 'scenarios', hidden: '' },
      h('h2', {}, 'Scenarios'),
      h('div', { class: 'table-wrap' }, h('table', { id: 'scenarios', class: 'data' }, h('thead', {}, h('tr', {}, ...labels.map((l, i) => h('th', i > 0 ? { class: 'num' } : {}, l)))), this.#rows)),
    )
  }

  update(view: ReportView): void {
    const planned = view.run.plan.scenarios ?? []
    this.el.hidden = planned.length === 0
    if (this.el.hidden) return
    const figures = new Map((view.summary.scenarios ?? []).map((s) => [s.name, s]))
    // In the plan's order; a scenario that has not started yet shows its offset and dashes.
    replace(
      this.#rows,
      ...planned.map((p) => {
        const s = figures.get(p.name)
        const cell = (text: string): HTMLElement => h('td', { class: 'num' }, text)
        return h(
          'tr',
          { 'data-scenario': p.name },
          h('td', {}, p.name),
          cell(`${(p.startMs / 1000).toFixed(p.startMs % 1000 === 0 ? 0 : 1)} s`),
          cell(s !== undefined ? f.int(s.runs) : '–'),
          cell(s !== undefined ? f.int(s.failures + s.errors) : '–'),
          cell(s !== undefined ? f.int(s.hits) : '–'),
          cell(s !== undefined ? f.int(s.failed) : '–'),
          cell(s !== undefined && s.latency.count > 0 ? f.ms(s.latency.p50) : '–'),
          cell(s !== undefined && s.latency.count > 0 ? f.ms(s.latency.p95) : '–'),
          cell(s !== undefined && s.latency.count > 0 ? f.ms(s.latency.p99) : '–'),
          cell(s !== undefined && s.latency.count > 0 ? f.ms(s.latency.max) : '–'),
        )
      }),
    )
  }
}

/** The plan line of a run of scenarios: `Scenarios: browse: 10 users for 1m; buy (at 30s): 5 runs/s …`. */
export function scenariosPlanLine(plan: Plan, describeStep: (step: Step) => string): string {
  const parts = (plan.scenarios ?? []).map((sc, i) => {
    const steps = plan.steps.filter((st) => st.scenario === i).map(describeStep)
    const at = sc.startMs > 0 ? ` (at ${sc.startMs % 1000 === 0 ? sc.startMs / 1000 : (sc.startMs / 1000).toFixed(1)}s)` : ''
    return `${sc.name}${at}: ${steps.join(', then ')}`
  })
  return `Scenarios: ${parts.join('; ')}`
}
