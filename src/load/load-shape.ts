/**
 * The shape of a load beyond "N users × C runs": ramp-up, pauses between steps and think time
 * for the closed model; arrival rates for the open model. Pure parsing and planning: the worker
 * engine and the coordinator only read what is decided here.
 */
import { UsageError } from '../errors.js'
import { parseDuration } from './duration.js'
import type { Plan, PlanInput } from './plan.js'

/** `--max-users` when not given: the cap on test runs in flight at once in the open model, per engine. */
export const DEFAULT_MAX_USERS = 1000

/** A user's pause between two of its runs, drawn uniformly in [minMs, maxMs] (equal for a fixed think). */
export interface ThinkTime {
  minMs: number
  maxMs: number
}

/** `500ms` → 500..500; `200ms-1s` → 200..1000; `0-2s` → 0..2000. */
export function parseThink(text: string): ThinkTime {
  const parts = text.trim().split('-')
  if (parts.length > 2 || parts.some((p) => p.trim() === '')) {
    throw new UsageError(`--think expects a duration like 500ms or a range like 200ms-1s: got '${text}'`)
  }
  const [minMs, maxMs] = parts.length === 1 ? [thinkPart(parts[0]!), thinkPart(parts[0]!)] : [thinkPart(parts[0]!), thinkPart(parts[1]!)]
  if (maxMs < minMs) throw new UsageError(`--think ${text}: the range ends before it starts`)
  if (maxMs === 0) throw new UsageError(`--think ${text}: a think time of 0 is no think time (leave --think out)`)
  return { minMs, maxMs }
}

function thinkPart(text: string): number {
  // A range may start at 0 (`0-1s`), which parseDuration refuses as a duration of its own.
  if (/^0+(\.0+)?(ms|s|m|h)?$/.test(text.trim())) return 0
  return parseDuration(text, '--think')
}

/** One think time drawn from `think`, in ms. */
export function sampleThinkMs(think: ThinkTime, random: () => number = Math.random): number {
  return think.minMs + (think.maxMs - think.minMs) * random()
}

/** `200` or steps `100:200:400`: test runs started per second, each > 0 (decimals allowed: `0.5`). */
export function parseRates(text: string): number[] {
  return text.split(':').map((part) => {
    const s = part.trim()
    if (!/^\d+(\.\d+)?$/.test(s) || !(Number(s) > 0)) {
      throw new UsageError(
        `--rate expects test runs per second, or steps like 100:200:400: got '${text}'`,
        s === '' ? 'a step is empty (two colons in a row?)' : undefined,
      )
    }
    const rate = Number(s)
    if (rate > 1_000_000) throw new UsageError(`--rate: ${s} runs per second is too many for one run (at most 1000000)`)
    return rate
  })
}

/**
 * The open model: each `--rate` step starts runs on a fixed schedule for `-d`, whatever the
 * responses do; `users` of each step is the cap on runs in flight at once (`--max-users`).
 */
export function buildOpenPlan(input: PlanInput): Plan {
  if (input.duration === undefined) {
    throw new UsageError('--rate needs -d/--duration: how long each rate step lasts', 'e.g. --rate 200 -d 30s')
  }
  if (input.hits !== undefined) throw new UsageError('-c/--hits cannot be used with --rate', 'with --rate, -d/--duration says how long each step starts runs')
  if (input.users !== undefined) {
    throw new UsageError('-u/--users cannot be used with --rate', 'with --rate, --max-users caps how many runs are in flight at once')
  }
  if (input.rampUp !== undefined) throw new UsageError('--ramp-up spreads the starts of users (-u); with --rate, give steps instead: --rate 50:100:200')
  if (input.think !== undefined) throw new UsageError('--think is the pause between a user\'s runs (-u); with --rate, runs start on a schedule')
  const durationMs = parseDuration(input.duration, '-d/--duration')
  const maxUsers = input.maxUsers ?? DEFAULT_MAX_USERS
  const plan: Plan = { steps: parseRates(input.rate!).map((rate) => ({ users: maxUsers, rate, durationMs })) }
  if (input.pause !== undefined) plan.pauseMs = parseDuration(input.pause, '--pause')
  return plan
}

/** Adds `--ramp-up`, `--pause` and `--think` to a closed-model plan. */
export function shapeClosedPlan(plan: Plan, input: PlanInput): Plan {
  if (input.maxUsers !== undefined) {
    throw new UsageError('--max-users caps the open model (--rate)', 'without --rate, -u/--users is the number of users running at once')
  }
  if (input.rampUp !== undefined) {
    const rampUpMs = parseDuration(input.rampUp, '--ramp-up')
    for (const step of plan.steps) {
      if (step.durationMs !== undefined && rampUpMs >= step.durationMs) {
        throw new UsageError(`--ramp-up ${input.rampUp} is not shorter than -d/--duration ${input.duration}: the last users would start after the step ended`)
      }
      step.rampUpMs = rampUpMs
    }
  }
  if (input.pause !== undefined) plan.pauseMs = parseDuration(input.pause, '--pause')
  if (input.think !== undefined) plan.think = parseThink(input.think)
  return plan
}

/** Wall time the plan takes when every step is bounded by time (pauses included), else undefined. */
export function plannedDurationMs(plan: Plan): number | undefined {
  if (!plan.steps.every((s) => s.durationMs !== undefined)) return undefined
  const steps = plan.steps.reduce((t, s) => t + s.durationMs!, 0)
  return steps + (plan.pauseMs ?? 0) * (plan.steps.length - 1)
}
