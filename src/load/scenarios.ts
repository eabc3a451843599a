/**
 * Scenarios (k6's `scenarios`): several named loads side by side in one run, each with its own
 * test, shape (closed: users × hits or duration, ramp-up, pause, think; open: rate) and start
 * offset. A pure planner: the scenarios' steps are laid end to end in one Plan, each step naming
 * its scenario; the engines run each scenario's steps in order, the scenarios at once.
 */
import { UsageError } from '../errors.js'
import { formatDuration, parseDuration } from './duration.js'
import type { ThinkTime } from './load-shape.js'
import { plannedDurationMs } from './load-shape.js'
import { buildPlan, type Plan, type PlanInput } from './plan.js'

/** A scenario as the config file gives it (`[scenario.NAME]`): the user's text, parsed here once. */
export interface ScenarioInput extends PlanInput {
  name: string
  /** The test address (`shop.ts:Buyer`); every scenario's must name classes of one file. */
  test: string
  /** Start offset from the run's start: `30s` (k6's `startTime`); default 0. */
  start?: string | undefined
  /** Variables the scenario's users see in `this.env`, over the run's (k6's scenario `env`). */
  env?: Record<string, string> | undefined
  /** Labels of the scenario's series in the metrics outputs (k6's scenario `tags`). */
  tags?: Record<string, string> | undefined
}

/** A scenario in the plan. Its steps are those of `plan.steps` whose `scenario` is its index. */
export interface ScenarioPlan {
  name: string
  /** When its first step starts, ms after the run's start. */
  startMs: number
  /** Idle time between two of its steps (`pause`). */
  pauseMs?: number
  /** Closed model: each user's wait between two runs (`think`). */
  think?: ThinkTime
  tags?: Record<string, string>
}

/** What a worker needs of a scenario: which tests its users run, and their env. Plain data (RunConfig). */
export interface ScenarioRun {
  name: string
  /** Indices into RunConfig.tests. */
  tests: number[]
  env?: Record<string, string>
}

const NAME = /^[A-Za-z0-9_.-]{1,64}$/
/** A tag is a label of the metrics outputs: Prometheus's label syntax, and none of the labels Loads sets. */
const TAG = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/
const RESERVED_LABELS = new Set(['run_id', 'test', 'agent', 'method', 'name', 'status_class', 'kind', 'outcome', 'counter', 'check', 'result', 'group', 'test_method', 'scenario', 'le'])

/**
 * The plan of a run made of scenarios: each scenario's shape built and checked as the command
 * line's would be (messages name the scenario), its steps appended in order.
 */
export function buildScenarioPlan(inputs: readonly ScenarioInput[]): Plan {
  if (inputs.length === 0) throw new UsageError('no scenario given')
  const plan: Plan = { steps: [], scenarios: [] }
  const seen = new Set<string>()
  inputs.forEach((input, index) => {
    const where = `[scenario.${input.name}]`
    if (!NAME.test(input.name)) throw new UsageError(`${where}: a scenario name is letters, digits, '_', '.' or '-' (at most 64)`)
    if (seen.has(input.name)) throw new UsageError(`${where} is given twice`)
    seen.add(input.name)
    let own: Plan
    try {
      own = buildPlan(input)
    } catch (err) {
      if (err instanceof UsageError) throw new UsageError(`${where}: ${err.message}`, err.hint)
      throw err
    }
    const scenario: ScenarioPlan = { name: input.name, startMs: input.start === undefined ? 0 : startOffset(input.start, where) }
    if (own.pauseMs !== undefined) scenario.pauseMs = own.pauseMs
    if (own.think !== undefined) scenario.think = own.think
    for (const tag of Object.keys(input.tags ?? {})) {
      if (!TAG.test(tag) || RESERVED_LABELS.has(tag) || tag.startsWith('__')) {
        throw new UsageError(`${where}: tag '${tag}' cannot be a metrics label`, `a tag name is letters, digits and '_', not starting with a digit or '__', and none of ${[...RESERVED_LABELS].join(', ')}`)
      }
    }
    if (input.tags !== undefined && Object.keys(input.tags).length > 0) scenario.tags = input.tags
    plan.scenarios!.push(scenario)
    for (const step of own.steps) plan.steps.push({ ...step, scenario: index })
  })
  return plan
}

function startOffset(text: string, where: string): number {
  if (/^0+(\.0+)?(ms|s|m|h)?$/.test(text.trim())) return 0
  try {
    return parseDuration(text, 'start')
  } catch (err) {
    if (err instanceof UsageError) throw new UsageError(`${where}: ${err.message}`, err.hint)
    throw err
  }
}

/** The steps of scenario `index`, as indices into plan.steps, in order. */
export function scenarioSteps(plan: Plan, index: number): number[] {
  const out: number[] = []
  plan.steps.forEach((s, i) => {
    if (s.scenario === index) out.push(i)
  })
  return out
}

/** Wall time of a scenario plan when every step is bounded by time: the latest scenario's end. */
export function scenariosDurationMs(plan: Plan): number | undefined {
  let end = 0
  for (const [i, sc] of (plan.scenarios ?? []).entries()) {
    const steps = scenarioSteps(plan, i).map((k) => plan.steps[k]!)
    const own = plannedDurationMs({ steps, ...(sc.pauseMs !== undefined ? { pauseMs: sc.pauseMs } : {}) })
    if (own === undefined) return undefined
    end = Math.max(end, sc.startMs + own)
  }
  return end
}

/** Users running at once at most, were every scenario's largest step to overlap (sizes workers). */
export function peakUsers(plan: Plan): number {
  if (plan.scenarios === undefined) return Math.max(...plan.steps.map((s) => s.users))
  return plan.scenarios.reduce((n, _sc, i) => n + Math.max(...scenarioSteps(plan, i).map((k) => plan.steps[k]!.users)), 0)
}

/**
 * Agent `index` of `count` takes the scenario's global users (and arrivals) g ≡ index (mod
 * count); its worker `w` of `workers` those of its own with j ≡ w: together g = index + count·w
 * + count·workers·m. So a worker's place is `index + count·w` among `count·workers`, and every
 * scenario figure (users, arrivals, fixed rates) is split exactly over the agents.
 */
export function agentPlace(worker: number, workers: number, shard: { index: number; count: number } | undefined): { worker: number; workers: number } {
  const count = shard?.count ?? 1
  return { worker: (shard?.index ?? 0) + count * worker, workers: count * workers }
}

/** How many of `total` items (users, arrivals) place `worker` of `workers` takes (g ≡ worker mod workers). */
export function placeShare(total: number, worker: number, workers: number): number {
  return total > worker ? Math.floor((total - 1 - worker) / workers) + 1 : 0
}

/** One line per scenario for the plan line: `browse: 10 users for 1m; buy (at 30s): 5 runs/s …`. */
export function describeScenario(sc: ScenarioPlan): string {
  return sc.startMs > 0 ? `${sc.name} (at ${formatDuration(sc.startMs)})` : sc.name
}
