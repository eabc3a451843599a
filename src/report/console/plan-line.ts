import { describeChangedStep, type ChangeEvent } from '../../load/control.js'
import { describeStep } from '../../load/plan.js'
import { describeScenario, scenarioSteps } from '../../load/scenarios.js'
import type { RunInfo } from '../reporter.js'

/** What the plan line needs beyond the run's description. */
export interface PlanLineOptions {
  /** Test runs expected in all (steps × tests × agents); undefined when bounded by time. */
  plannedRuns?: number | undefined
  /** Agents of a cluster run (each runs the whole plan). */
  agents?: number | undefined
  /**
   * Live changes so far (docs/live-control.md): each step says how it was changed, and the
   * line gives no total (the planned one no longer holds).
   */
  changes?: readonly ChangeEvent[] | undefined
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`
}

/**
 * The line printed before a run, with every factor of its size, so a log reads on its own:
 * `addr: 10 users × 20 runs × 3 tests = 600 runs, on 2 workers`; with steps,
 * `(10 users × 20 runs, then 20 users × 20 runs) × 1 test × 5 agents = 6000 runs, on the cluster`.
 * A plan bounded by time has no total: `addr: 3 tests, 10 users for 30s, on 2 workers`.
 */
export function formatPlanLine(info: RunInfo, options: PlanLineOptions = {}): string {
  const changes = options.changes ?? []
  if (changes.length > 0) options = { ...options, plannedRuns: undefined }
  if (info.plan.scenarios !== undefined) {
    const line = scenariosLine(info, options)
    return changes.length > 0 ? describeChangedStep(line, changes, -1, info.startMs) : line
  }
  const steps = info.plan.steps.map((s, i) => (changes.length > 0 ? describeChangedStep(describeStep(s), changes, i, info.startMs) : describeStep(s)))
  const agents = info.mode === 'cluster' ? options.agents : undefined
  const where = info.mode === 'local' ? `on ${count(info.workers, 'worker')}` : 'on the cluster'
  const tests = count(info.tests.length, 'test')
  if (options.plannedRuns === undefined) {
    const each = agents !== undefined ? `, on each of ${count(agents, 'agent')}` : ''
    return `${info.address}: ${tests}, ${steps.join(', then ')}${each}, ${where}`
  }
  const shape = steps.length === 1 ? steps[0]! : `(${steps.join(', then ')})`
  const factors = [shape, tests, ...(agents !== undefined ? [count(agents, 'agent')] : [])]
  return `${info.address}: ${factors.join(' × ')} = ${count(options.plannedRuns, 'run')}, ${where}`
}

/** `browse: 10 users for 1m; buy (at 30s): 5 runs/s for 2m (…) = 300 runs, on 2 workers`: each scenario's whole figures. */
function scenariosLine(info: RunInfo, options: PlanLineOptions): string {
  const plan = info.plan
  const parts = plan.scenarios!.map((sc, i) => `${describeScenario(sc)}: ${scenarioSteps(plan, i).map((k) => describeStep(plan.steps[k]!)).join(', then ')}`)
  const where = info.mode === 'local' ? `on ${count(info.workers, 'worker')}` : `split over ${options.agents !== undefined ? count(options.agents, 'agent') : 'the agents'}`
  const total = options.plannedRuns !== undefined ? ` = ${count(options.plannedRuns, 'run')}` : ''
  return `scenarios ${parts.join('; ')}${total}, ${where}`
}
