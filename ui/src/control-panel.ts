/**
 * Live control on the page (docs/live-control.md): a number of users (or a rate, in the open
 * model) to apply, Pause / Resume, and the list of changes made so far ("changed at 00:42 to 200
 * users by the page"), which the static report shows too. The charts mark each change with a
 * vertical line (`changeMarks`, a uPlot plugin). Kept apart from run-page.ts: the page only
 * places these elements and calls `update`.
 */
import type uPlot from 'uplot'
import { describeChangeEvent, type ChangeEvent } from '../../src/load/control.js'
import type { ReportView } from '../../src/report/result.js'
import { h, replace, text } from './dom.js'

/** Posts a change to the dashboard (`api/scale`, `api/pause` …); rejects with the run's reason. */
export async function postChange(action: string, body?: unknown): Promise<void> {
  const res = await fetch(`api/${action}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-loads-by': 'page' },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  })
  if (!res.ok) {
    const answer = (await res.json().catch(() => ({}))) as { error?: string }
    throw new Error(answer.error ?? `HTTP ${res.status}`)
  }
}

/** The change list, on live pages and static reports alike. */
export class ChangesList {
  readonly el = h('ul', { class: 'changes', 'data-changes': '', hidden: '' })
  #key = ''

  update(view: ReportView): void {
    const changes = view.changes ?? []
    const key = changes.map((c) => c.atMs).join(',')
    if (key === this.#key) return
    this.#key = key
    this.el.hidden = changes.length === 0
    replace(this.el, ...changes.map((c) => h('li', { 'data-change': c.action }, describeChangeEvent(c, c.atMs - view.run.startMs))))
  }
}

/**
 * The form of a live run: users or rate, Apply, Pause / Resume, and where the pause is: "Pausing…"
 * until every worker (every agent) said it holds its users, then "Paused" — until then test runs
 * may still start. The button follows the change asked, the words what is in force.
 */
export class ControlPanel {
  readonly el: HTMLElement
  readonly #label = h('label', { for: 'control-value' }, 'Users')
  readonly #value = h('input', { id: 'control-value', class: 'control-value', type: 'number', min: '0', step: '1', inputmode: 'numeric' })
  readonly #apply = h('button', { type: 'submit', class: 'control-apply' }, 'Apply')
  readonly #pause = h('button', { type: 'button', class: 'control-pause' }, 'Pause')
  readonly #pauseState = h('span', { class: 'control-pause-state', 'data-pause-state': 'running', role: 'status' })
  readonly #message = h('span', { class: 'control-message', role: 'status' })
  #open = false
  #paused = false
  #edited = false

  constructor() {
    const form = h('form', { class: 'control-form' }, this.#label, this.#value, this.#apply)
    form.addEventListener('submit', (ev) => {
      ev.preventDefault()
      void this.#scale()
    })
    this.#value.addEventListener('input', () => (this.#edited = true))
    this.#pause.addEventListener('click', () => void this.#togglePause())
    this.el = h('div', { class: 'control', 'data-control': '' }, form, this.#pause, this.#pauseState, this.#message)
  }

  update(view: ReportView): void {
    const running = view.state === 'running'
    this.el.hidden = !running
    if (!running) return
    const index = Math.min(view.live?.planStep ?? 0, view.run.plan.steps.length - 1)
    const step = view.run.plan.steps[index]
    this.#open = step?.rate !== undefined
    text(this.#label, this.#open ? 'Runs/s' : 'Users')
    this.#value.step = this.#open ? 'any' : '1'
    if (!this.#edited) {
      // The value in force: the last change of this step, else the plan's (the run's active users
      // in the closed model).
      const last = [...(view.changes ?? [])].reverse().find((c): c is ChangeEvent & { action: 'scale' } => c.action === 'scale' && c.step === index)
      const value = last !== undefined ? ('users' in last ? last.users : last.rate) : this.#open ? step?.rate : view.live?.activeUsers
      if (value !== undefined) this.#value.value = String(value)
    }
    this.#paused = view.live?.paused === true
    text(this.#pause, this.#paused ? 'Resume' : 'Pause')
    this.#pause.setAttribute('data-paused', this.#paused ? 'true' : 'false')
    this.#showPauseState(view.live?.pauseState ?? 'running', view.live?.pausePending ?? 0, view.run.mode === 'cluster' ? 'agent' : 'worker')
  }

  #showPauseState(state: 'running' | 'pausing' | 'paused' | 'resuming', pending: number, source: string): void {
    this.#pauseState.setAttribute('data-pause-state', state)
    const waiting = pending > 0 ? ` ${pending} ${source}${pending === 1 ? '' : 's'} not ${state === 'pausing' ? 'paused' : 'running'} yet` : ''
    text(this.#pauseState, state === 'pausing' ? `Pausing…${waiting}` : state === 'resuming' ? `Resuming…${waiting}` : state === 'paused' ? 'Paused' : '')
  }

  async #scale(): Promise<void> {
    const n = Number(this.#value.value)
    await this.#send('scale', this.#open ? { rate: n } : { users: n })
    this.#edited = false
  }

  async #togglePause(): Promise<void> {
    await this.#send(this.#paused ? 'resume' : 'pause')
  }

  async #send(action: string, body?: unknown): Promise<void> {
    this.#apply.disabled = true
    this.#pause.disabled = true
    try {
      await postChange(action, body)
      text(this.#message, '')
      if (action === 'pause' || action === 'resume') {
        this.#paused = action === 'pause'
        text(this.#pause, this.#paused ? 'Resume' : 'Pause')
        // Asked, not yet in force: the next view says when every worker has it.
        this.#showPauseState(this.#paused ? 'pausing' : 'resuming', 0, '')
      }
    } catch (err) {
      text(this.#message, (err as Error).message)
    } finally {
      this.#apply.disabled = false
      this.#pause.disabled = false
    }
  }
}

/**
 * A uPlot plugin drawing each change as a dashed vertical line at its second; `set` replaces
 * the marks (the chart redraws on its next data). Each chart says what it drew, for tests and
 * tools: `data-change-marks` (the seconds) and `data-change-x` (canvas pixels) on its panel.
 */
export function changeMarks(): { plugin: uPlot.Plugin; set(view: ReportView): void } {
  let marks: number[] = []
  const plugin: uPlot.Plugin = {
    hooks: {
      draw: [
        (u: uPlot) => {
          const ctx = u.ctx
          ctx.save()
          ctx.strokeStyle = '#7c3aed'
          ctx.setLineDash([4, 3])
          ctx.lineWidth = 1.5 * devicePixelRatio
          const drawn: { t: number; x: number }[] = []
          const right = u.bbox.left + u.bbox.width
          for (const t of marks) {
            let x = u.valToPos(t, 'x', true)
            if (!(x >= u.bbox.left && x <= right)) continue
            // A change at the last second is drawn whole, just inside the plot (not half clipped).
            x = Math.min(x, right - ctx.lineWidth)
            ctx.beginPath()
            ctx.moveTo(x, u.bbox.top)
            ctx.lineTo(x, u.bbox.top + u.bbox.height)
            ctx.stroke()
            drawn.push({ t, x })
          }
          ctx.restore()
          const panel = u.root.closest<HTMLElement>('[data-chart]')
          if (panel !== null) {
            panel.dataset['changeMarks'] = drawn.map((d) => d.t.toFixed(1)).join(' ')
            panel.dataset['changeX'] = drawn.map((d) => Math.round(d.x)).join(' ')
          }
        },
      ],
    },
  }
  return {
    plugin,
    set(view) {
      marks = (view.changes ?? []).map((c) => c.t ?? (c.atMs - view.summary.startMs) / 1000)
    },
  }
}
