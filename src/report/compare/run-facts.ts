/**
 * What each side of a comparison was — tests, plan, users, duration, how it ended — and whether
 * the two can be compared at all. Two runs of different tests or different plans differ for
 * reasons no per-URL delta can tell apart from a regression (fewer users make fewer hits per
 * second), so the comparison says "not comparable" instead of counting regressions. Plain data,
 * no Node.js imports: the front end draws it as it is.
 */
import { formatDuration } from '../../load/duration.js'
import { describeStep, type Plan } from '../../load/plan.js'
import type { RunSummary } from '../../stats/types.js'
import type { RunMeta, RunState } from '../result.js'
import type { ThresholdResult } from '../thresholds/judge.js'

/** What a comparison reads of each run: a saved result or a report view. */
export interface CompareSide {
  run: RunMeta
  summary: RunSummary
  thresholds: ThresholdResult[]
  state: RunState
  exitCode?: number
}

/** One side of a comparison, as shown side by side. */
export interface RunFacts {
  address: string
  /** `Class.method` of every selected test, sorted. */
  tests: string[]
  /** `4 users × 25 runs`, `(10 users for 30s, then 20 users for 30s), pause 5s, think 500ms`. */
  plan: string
  /** Users per step: `4`, `10 → 20`; the open model's cap on runs in flight: `at most 50 in flight`. */
  users: string
  /** Planned length (steps and pauses), ms; null when the plan is bounded by runs. */
  plannedMs: number | null
  /** Measured length, ms. */
  durationMs: number
  mode: 'local' | 'cluster'
  workers: number
  /** ms since epoch. */
  startMs: number
  state: RunState
  /** Absent for a view of a run still going. */
  exitCode?: number
  hits: number
  testRuns: number
  /** Test runs that ended in a failure or an error. */
  failedRuns: number
  /** Thresholds judged, and the ones that failed as written (`p95<300ms`). */
  thresholds: number
  failedThresholds: string[]
}

export function runFacts(side: CompareSide): RunFacts {
  const { run, summary } = side
  return {
    address: run.address,
    tests: testNames(run),
    plan: describePlan(run.plan),
    users: describeUsers(run.plan),
    plannedMs: plannedMs(run.plan),
    durationMs: summary.durationMs,
    mode: run.mode,
    workers: run.workers,
    startMs: run.startMs,
    state: side.state,
    ...(side.exitCode !== undefined ? { exitCode: side.exitCode } : {}),
    hits: summary.hits,
    testRuns: summary.tests.run,
    failedRuns: summary.tests.failures + summary.tests.errors,
    thresholds: side.thresholds.length,
    failedThresholds: side.thresholds.filter((t) => !t.pass).map((t) => t.threshold),
  }
}

/**
 * Why two runs cannot be compared (empty when they can): different tests, a different plan
 * (users, runs, durations, rates, ramp-up, pause, think time), or one local and one cluster run
 * (each agent runs the whole plan). The number of workers may differ: the load is the same.
 */
export function notComparableReasons(base: CompareSide, current: CompareSide): string[] {
  const reasons: string[] = []
  const a = testNames(base.run)
  const b = testNames(current.run)
  if (a.join('\n') !== b.join('\n')) {
    const onlyBase = a.filter((t) => !b.includes(t))
    const onlyCurrent = b.filter((t) => !a.includes(t))
    const parts = [...(onlyBase.length > 0 ? [`only the base ran ${onlyBase.join(', ')}`] : []), ...(onlyCurrent.length > 0 ? [`only the current run ran ${onlyCurrent.join(', ')}`] : [])]
    reasons.push(`different tests: ${parts.join('; ')}`)
  }
  if (planKey(base.run.plan) !== planKey(current.run.plan)) {
    reasons.push(`different plans: base ${describePlan(base.run.plan)}; current ${describePlan(current.run.plan)}`)
  }
  if (base.run.mode !== current.run.mode) reasons.push(`base ran ${where(base.run.mode)}, current ${where(current.run.mode)} (each agent runs the whole plan)`)
  return reasons
}

function where(mode: 'local' | 'cluster'): string {
  return mode === 'local' ? 'on this machine' : 'on a cluster'
}

function testNames(run: RunMeta): string[] {
  return run.tests.map((t) => `${t.className}.${t.methodName}`).sort()
}

/** Every step in words, with the pause and think time when set. */
export function describePlan(plan: Plan): string {
  const steps = plan.steps.map(describeStep)
  const shape = steps.length === 1 ? steps[0]! : `(${steps.join(', then ')})`
  const pause = plan.pauseMs !== undefined && plan.steps.length > 1 ? `, pause ${formatDuration(plan.pauseMs)}` : ''
  const think = plan.think === undefined ? '' : `, think ${plan.think.minMs === plan.think.maxMs ? formatDuration(plan.think.minMs) : `${formatDuration(plan.think.minMs)}-${formatDuration(plan.think.maxMs)}`}`
  return shape + pause + think
}

/** The plan's fields in a fixed order, so two equal plans give the same key whatever their key order. */
function planKey(plan: Plan): string {
  const steps = plan.steps.map((s) => [s.users, s.hits ?? null, s.durationMs ?? null, s.rampUpMs ?? null, s.rate ?? null])
  const pause = plan.steps.length > 1 ? (plan.pauseMs ?? 0) : 0
  return JSON.stringify([steps, pause, plan.think?.minMs ?? null, plan.think?.maxMs ?? null])
}

function describeUsers(plan: Plan): string {
  const users = plan.steps.map((s) => String(s.users)).join(' → ')
  return plan.steps.every((s) => s.rate !== undefined) ? `at most ${users} in flight` : users
}

function plannedMs(plan: Plan): number | null {
  let total = 0
  for (const step of plan.steps) {
    if (step.durationMs === undefined) return null
    total += step.durationMs
  }
  return total + (plan.pauseMs ?? 0) * Math.max(0, plan.steps.length - 1)
}
