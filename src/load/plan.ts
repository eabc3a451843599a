import { UsageError } from '../errors.js'
import { formatDuration, parseDuration } from './duration.js'

/** One step of a run: `users` virtual users, each running the tests `hits` times or for `durationMs`. */
export interface Step {
  users: number
  /** Runs per user (each run executes every selected test once). */
  hits?: number
  /** Each user loops until this much time has passed since the step started. */
  durationMs?: number
}

/** The whole load: steps run one after another, each to completion. */
export interface Plan {
  steps: Step[]
}

export interface PlanInput {
  /** `-u`: `100` or steps `10:20:30`. */
  users?: string | undefined
  /** `-c`: runs per user, `10` or steps `10:20`. */
  hits?: string | undefined
  /** `-d`: per step, `30`, `30s`, `2m`. */
  duration?: string | undefined
}

/**
 * Builds the plan: every users-step × hits-step, in order (as the original did). Defaults to
 * one user running once, so `loads-runner module.Class.method` checks that a test works.
 */
export function buildPlan(input: PlanInput): Plan {
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
  const users = `${step.users} user${step.users === 1 ? '' : 's'}`
  return step.hits !== undefined ? `${users} × ${step.hits} run${step.hits === 1 ? '' : 's'}` : `${users} for ${formatDuration(step.durationMs!)}`
}
