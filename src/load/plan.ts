import { UsageError } from '../errors.js'
import { formatDuration, parseDuration } from './duration.js'
import { buildOpenPlan, shapeClosedPlan, type ThinkTime } from './load-shape.js'
import type { ScenarioPlan } from './scenarios.js'

/** One step of a run: `users` virtual users, each running the tests `hits` times or for `durationMs`. */
export interface Step {
  users: number
  /** Runs per user (each run executes every selected test once). */
  hits?: number
  /** Each user loops until this much time has passed since the step started. */
  durationMs?: number
  /** Closed model: the step's users start spread evenly over this many ms (`--ramp-up`). */
  rampUpMs?: number
  /**
   * Open model (`--rate`): test runs started per second on a fixed schedule for `durationMs`,
   * whatever the responses do; `users` is then the cap on runs in flight at once (`--max-users`).
   */
  rate?: number
  /** Index into `Plan.scenarios` of the scenario this step belongs to (absent without scenarios). */
  scenario?: number
}

/**
 * The whole load: steps run one after another, each to completion. With scenarios, each
 * scenario's steps run one after another, the scenarios side by side (load/scenarios.ts).
 */
export interface Plan {
  steps: Step[]
  /** Idle time between two steps, ms (`--pause`). */
  pauseMs?: number
  /** Closed model: each user waits this long between two of its runs (`--think`). */
  think?: ThinkTime
  /** Config-file scenarios; their pauses and think times are their own (`pauseMs`, `think` above unused). */
  scenarios?: ScenarioPlan[]
}

export interface PlanInput {
  /** `-u`: `100` or steps `10:20:30`. */
  users?: string | undefined
  /** `-c`: runs per user, `10` or steps `10:20`. */
  hits?: string | undefined
  /** `-d`: per step, `30`, `30s`, `2m`. */
  duration?: string | undefined
  /** `--ramp-up 30s`: each step's users start spread over it. */
  rampUp?: string | undefined
  /** `--pause 10s` between steps. */
  pause?: string | undefined
  /** `--think 500ms` or `200ms-1s` between a user's runs. */
  think?: string | undefined
  /** `--rate 200` or `100:200:400`: the open model. */
  rate?: string | undefined
  /** `--max-users`: cap on runs in flight in the open model. */
  maxUsers?: number | undefined
}

/**
 * Builds the plan: every users-step × hits-step, in order (as the original did). Defaults to
 * one user running once, so `loads-runner module.Class.method` checks that a test works.
 */
export function buildPlan(input: PlanInput): Plan {
  if (input.rate !== undefined) return buildOpenPlan(input)
  return shapeClosedPlan(buildStepsPlan(input), input)
}

function buildStepsPlan(input: PlanInput): Plan {
  if (input.hits !== undefined && input.duration !== undefined) {
    throw new UsageError('-c/--hits and -d/--duration cannot be used together', 'give a number of runs per user, or a duration per step')
  }
  const users = parseSteps(input.users ?? '1', '-u/--users')
  if (input.duration !== undefined) {
    const durationMs = parseDuration(input.duration, '-d/--duration')
    return { steps: users.map((u) => ({ users: u, durationMs })) }
  }
  const hits = parseSteps(input.hits ?? '1', '-c/--hits')
  return { steps: users.flatMap((u) => hits.map((h) => ({ users: u, hits: h }))) }
}

/** `10:20:30` → [10, 20, 30]; each a whole number ≥ 1. */
export function parseSteps(text: string, flag: string): number[] {
  const parts = text.trim().split(':')
  return parts.map((part) => {
    if (!/^\d+$/.test(part.trim()) || Number(part) < 1) {
      throw new UsageError(
        `${flag} expects a whole number ≥ 1, or steps like 10:20:30: got '${text}'`,
        part.trim() === '' ? 'a step is empty (two colons in a row?)' : undefined,
      )
    }
    const n = Number(part)
    if (!Number.isSafeInteger(n) || n > 10_000_000) throw new UsageError(`${flag}: ${part} is too large`)
    return n
  })
}

/** Test runs the plan will make per selected test; undefined for duration-based plans. */
export function plannedRuns(plan: Plan): number | undefined {
  let total = 0
  for (const step of plan.steps) {
    if (step.hits === undefined) return undefined
    total += step.users * step.hits
  }
  return total
}

/** Users of a step spread over workers: the first `users % workers` get one more. */
export function shareUsers(users: number, workers: number): number[] {
  const base = Math.floor(users / workers)
  const extra = users % workers
  return Array.from({ length: workers }, (_, i) => base + (i < extra ? 1 : 0))
}

export function describeStep(step: Step): string {
  if (step.rate !== undefined) return `${step.rate} runs/s for ${formatDuration(step.durationMs!)} (at most ${step.users} in flight)`
  const ramp = step.rampUpMs !== undefined ? `, starting over ${formatDuration(step.rampUpMs)}` : ''
  return describeUsers(step) + ramp
}

function describeUsers(step: Step): string {
  const users = `${step.users} user${step.users === 1 ? '' : 's'}`
  return step.hits !== undefined ? `${users} × ${step.hits} run${step.hits === 1 ? '' : 's'}` : `${users} for ${formatDuration(step.durationMs!)}`
}
