/**
 * `loads-runner TEST --web` (docs/live-control.md): the dashboard starts with no load; its page
 * shows a form (users, runs per user or duration, ramp-up, rate, server URL — defaults from the
 * flags given) and Start. Each Start is a run of its own (its own id) with the flags' other
 * options; once it ends the page keeps its results and offers another. Ctrl-C ends it all.
 * Locust's web UI works the same way.
 */
import { UsageError } from '../errors.js'
import { buildPlan, type PlanInput } from '../load/plan.js'
import type { RunOptions } from '../runner/run.js'

/** The form's fields, as text (empty: not given). */
export interface WebForm {
  users: string
  hits: string
  duration: string
  rampUp: string
  rate: string
  serverUrl: string
}

const FIELDS = ['users', 'hits', 'duration', 'rampUp', 'rate', 'serverUrl'] as const

/** Hands the page's starts to the command's loop, one run at a time. */
export class WebStarts {
  #waiting: ((form: WebForm) => void) | undefined

  constructor(
    /** The flags' values: the form's defaults. */
    readonly defaults: WebForm,
    private readonly base: RunOptions,
  ) {}

  /** `POST /api/start`: a message when the form does not make a run, else the run is started. */
  start = (body: unknown): { started: true } | string => {
    const form = readForm(body)
    if (typeof form === 'string') return form
    try {
      buildPlan(planOf(form, this.base))
      if (form.serverUrl !== '') checkServerUrl(form.serverUrl)
    } catch (err) {
      if (err instanceof UsageError) return `${err.message}${err.hint !== undefined ? ` (${err.hint})` : ''}`
      throw err
    }
    const waiting = this.#waiting
    if (waiting === undefined) return 'the runner is not ready for a run yet'
    this.#waiting = undefined
    waiting(form)
    return { started: true }
  }

  /** The next Start, or undefined once `signal` aborts (Ctrl-C). */
  next(signal: AbortSignal): Promise<WebForm | undefined> {
    if (signal.aborted) return Promise.resolve(undefined)
    return new Promise((resolve) => {
      const onAbort = (): void => {
        this.#waiting = undefined
        resolve(undefined)
      }
      signal.addEventListener('abort', onAbort, { once: true })
      this.#waiting = (form) => {
        signal.removeEventListener('abort', onAbort)
        resolve(form)
      }
    })
  }

  /** The run the form asks for: the flags' options with the form's shape and server URL. */
  options(form: WebForm): RunOptions {
    const { users: _u, hits: _h, duration: _d, rampUp: _r, rate: _t, ...options } = this.base
    const plan = planOf(form, this.base)
    const run: RunOptions = { ...options }
    if (plan.users !== undefined) run.users = plan.users
    if (plan.hits !== undefined) run.hits = plan.hits
    if (plan.duration !== undefined) run.duration = plan.duration
    if (plan.rampUp !== undefined) run.rampUp = plan.rampUp
    if (plan.rate !== undefined) run.rate = plan.rate
    if (form.serverUrl.trim() !== '') run.serverUrl = form.serverUrl.trim()
    return run
  }
}

/** The form's defaults from the flags given. */
export function webDefaults(flags: Partial<Record<(typeof FIELDS)[number], string>>): WebForm {
  return {
    users: flags.users ?? (flags.rate === undefined ? '1' : ''),
    hits: flags.hits ?? '',
    duration: flags.duration ?? (flags.hits === undefined ? '30s' : ''),
    rampUp: flags.rampUp ?? '',
    rate: flags.rate ?? '',
    serverUrl: flags.serverUrl ?? '',
  }
}

function planOf(form: WebForm, base: RunOptions): PlanInput {
  const given = (v: string): string | undefined => (v.trim() === '' ? undefined : v.trim())
  return {
    users: given(form.users),
    hits: given(form.hits),
    duration: given(form.duration),
    rampUp: given(form.rampUp),
    rate: given(form.rate),
    maxUsers: base.maxUsers,
    pause: base.pause,
    think: base.think,
  }
}

function readForm(body: unknown): WebForm | string {
  if (typeof body !== 'object' || body === null) return 'start expects a JSON object of the form\'s fields'
  const b = body as Record<string, unknown>
  const form = {} as WebForm
  for (const k of FIELDS) {
    const v = b[k] ?? ''
    if (typeof v !== 'string' && typeof v !== 'number') return `${k} must be text or a number`
    form[k] = String(v).slice(0, 200)
  }
  return form
}

function checkServerUrl(url: string): void {
  let u: URL
  try {
    u = new URL(url)
  } catch {
    throw new UsageError(`the server URL is not a URL: '${url}'`)
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new UsageError(`the server URL must be http:// or https://: got '${url}'`)
}
