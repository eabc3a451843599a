/**
 * Time charts on uPlot (bundled, MIT): x is seconds since the run started. Series labels are
 * fixed strings of ours, never user text.
 */
import uPlot from 'uplot'
import 'uplot/dist/uPlot.min.css'
import './charts.css'
import { h } from './dom.js'

export interface LineSpec {
  label: string
  color: string
  /** Fill under the line (for the first series of a chart). */
  fill?: boolean
  /** Draw as steps (gauges like active users). */
  stepped?: boolean
  dash?: number[]
}

export interface ChartSpec {
  title: string
  unit: string
  lines: LineSpec[]
  /** uPlot plugins (e.g. the marks of live changes: control-panel.ts). */
  plugins?: uPlot.Plugin[]
  /** Offer a log scale (latency: one spike no longer flattens the rest). */
  log?: boolean
  /** A control of the caller's in the chart's header (the latency chart's URL-name picker). */
  tool?: HTMLElement
}

/** A step's first second, drawn as a labelled boundary. */
export interface StepMark {
  t: number
  /** 0-based step index. */
  step: number
}

const HEIGHT = 190

/**
 * A chart in a panel; `setData` takes [x[], ...ys[]] with x in seconds since the run started.
 * Drag across it to zoom (kept while live data arrives), double-click or "reset zoom" to see
 * the whole run; the x axis reads clock time once `setClock` is given the run's start; the
 * legend says the second under the cursor, and the latest values when the cursor is away;
 * step boundaries (`setSteps`) are dashed lines labelled "step N".
 */
export class Chart {
  readonly el: HTMLElement
  #plot: uPlot | undefined
  readonly #spec: ChartSpec
  readonly #body: HTMLElement
  readonly #reset = h('button', { type: 'button', class: 'chart-reset', hidden: '', title: 'show the whole run (or double-click the chart)' }, 'reset zoom')
  readonly #logBox = h('input', { type: 'checkbox', class: 'chart-log' })
  #data: uPlot.AlignedData = [[]]
  /** The x range the reader zoomed to, or undefined for the whole run. */
  #zoom: { min: number; max: number } | undefined
  /** Set while the chart itself changes the x scale (data arrives), so that is not taken for a zoom. */
  #settingData = false
  #startMs: number | undefined
  #steps: StepMark[] = []

  constructor(spec: ChartSpec) {
    this.#spec = spec
    this.#body = h('div', { class: 'chart-body' })
    const tools = h('span', { class: 'chart-tools' }, spec.tool ?? null, this.#reset, spec.log === true ? h('label', { class: 'chart-log-label', title: 'logarithmic y axis' }, this.#logBox, ' log scale') : null)
    this.el = h('section', { class: 'panel chart', 'data-chart': spec.title }, h('h2', {}, spec.title, tools), this.#body)
    this.#data = [[], ...spec.lines.map(() => [])]
    this.#reset.addEventListener('click', () => this.resetZoom())
    this.#logBox.addEventListener('change', () => this.#remount())
  }

  /** Labels the x axis and the legend in clock time: `startMs` is the run's start, ms since epoch. */
  setClock(startMs: number): void {
    this.#startMs = startMs
  }

  /** The seconds at which steps began (after the first): drawn on the next data. */
  setSteps(steps: StepMark[]): void {
    this.#steps = steps
    this.el.dataset['steps'] = steps.map((m) => m.t).join(' ')
  }

  /** Back to the whole run. */
  resetZoom(): void {
    this.#zoom = undefined
    this.#reset.hidden = true
    delete this.el.dataset['zoom']
    this.#plot?.setData(this.#data)
  }

  /** Whether the y axis is logarithmic now. */
  get log(): boolean {
    return this.#logBox.checked
  }

  #remount(): void {
    this.#plot?.destroy()
    this.#plot = undefined
    this.#body.replaceChildren()
    this.mount()
  }

  /** Draws once the panel is in the document (uPlot needs its width). */
  mount(): void {
    const width = this.#width()
    const spec = this.#spec
    const log = this.#logBox.checked
    this.el.dataset['scale'] = log ? 'log' : 'linear'
    const clock = (v: number): string => (this.#startMs === undefined ? `${v}s` : clockOf(this.#startMs + v * 1000))
    const opts: uPlot.Options = {
      width,
      height: HEIGHT,
      padding: [8, 28, 0, 0],
      plugins: [...(spec.plugins ?? []), stepsPlugin(() => this.#steps)],
      scales: {
        x: { time: false },
        y: log ? { distr: 3, log: 10, range: (_u, min, max) => uPlot.rangeLog(Math.max(min, 0.01), Math.max(max, 1), 10, true) } : { range: (_u, _min, max) => [0, max > 0 ? max * 1.08 : 1] },
      },
      legend: { live: true },
      cursor: { drag: { x: true, y: false, setScale: true } },
      hooks: {
        setScale: [
          (u, key) => {
            if (key !== 'x' || this.#settingData) return
            const min = u.scales['x']?.min
            const max = u.scales['x']?.max
            const xs = u.data[0]
            const whole = xs.length === 0 || min === undefined || max === undefined || (min <= (xs[0] ?? 0) && max >= (xs[xs.length - 1] ?? 0))
            this.#zoom = whole || min === undefined || max === undefined ? undefined : { min, max }
            this.#reset.hidden = this.#zoom === undefined
            if (this.#zoom === undefined) delete this.el.dataset['zoom']
            else this.el.dataset['zoom'] = `${Math.round(this.#zoom.min)}-${Math.round(this.#zoom.max)}`
          },
        ],
        // At rest (the cursor away), the legend shows the latest second's values, not dashes.
        setCursor: [(u) => atRest(u)],
      },
      axes: [
        {
          stroke: '#5b6472',
          grid: { stroke: '#eef0f3' },
          ticks: { stroke: '#d9dde3' },
          size: 44,
          values: (_u, vals) => vals.map((v) => (this.#startMs === undefined ? `${v}s` : `${clock(v)}\n+${shortSeconds(v)}`)),
        },
        { stroke: '#5b6472', grid: { stroke: '#eef0f3' }, ticks: { stroke: '#d9dde3' }, size: 56, label: spec.unit, labelSize: 16, labelFont: '11px system-ui, sans-serif' },
      ],
      series: [
        { label: 'second', value: (_u, v) => (v === null ? '–' : this.#startMs === undefined ? `${v}s` : `${clock(v)} (+${shortSeconds(v)})`) },
        ...spec.lines.map(
          (l): uPlot.Series => ({
            label: l.label,
            stroke: l.color,
            width: 2,
            points: { show: false },
            ...(l.fill === true ? { fill: `${l.color}22` } : {}),
            ...(l.dash !== undefined ? { dash: l.dash } : {}),
            ...(l.stepped === true ? { paths: uPlot.paths.stepped!({ align: 1 }) } : {}),
            value: (_u, v) => (v === null ? '–' : formatValue(v)),
          }),
        ),
      ],
    }
    this.#plot = new uPlot(opts, this.#data, this.#body)
    this.#applyZoom()
    atRest(this.#plot)
    if (this.#observed) return
    this.#observed = true
    new ResizeObserver(() => {
      const w = this.#width()
      if (this.#plot !== undefined && Math.abs(this.#plot.width - w) > 2) this.#plot.setSize({ width: w, height: HEIGHT })
    }).observe(this.#body)
  }

  #observed = false

  setData(data: uPlot.AlignedData): void {
    this.#data = data
    const plot = this.#plot
    if (plot === undefined) return
    this.#settingData = true
    try {
      plot.setData(data)
      this.#applyZoom()
    } finally {
      this.#settingData = false
    }
    atRest(plot)
  }

  /** Keeps the reader's zoom while live data arrives. */
  #applyZoom(): void {
    if (this.#zoom === undefined || this.#plot === undefined) return
    this.#settingData = true
    try {
      this.#plot.setScale('x', this.#zoom)
    } finally {
      this.#settingData = false
    }
  }

  #width(): number {
    return Math.max(240, Math.floor(this.#body.clientWidth || 480))
  }
}

/** Shows the latest second's values in the legend when the cursor is not over the chart. */
function atRest(u: uPlot): void {
  if (u.cursor.idx !== null && u.cursor.idx !== undefined) return
  const n = u.data[0].length
  if (n > 0) u.setLegend({ idx: n - 1 }, false)
}

/** `HH:MM:SS` of a time, in the reader's zone. */
function clockOf(epochMs: number): string {
  const d = new Date(epochMs)
  const pad = (n: number): string => String(n).padStart(2, '0')
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
}

/** Seconds since the start, short: `45s`, `2m05s`, `1h02m`. */
function shortSeconds(v: number): string {
  const s = Math.round(v)
  if (s < 60) return `${s}s`
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`
}

/** Dashed lines where a step began, labelled `step N`. */
function stepsPlugin(steps: () => StepMark[]): uPlot.Plugin {
  return {
    hooks: {
      draw: [
        (u) => {
          const marks = steps()
          if (marks.length === 0) return
          const ctx = u.ctx
          ctx.save()
          ctx.strokeStyle = '#94a3b8'
          ctx.fillStyle = '#475569'
          ctx.setLineDash([6, 4])
          ctx.lineWidth = devicePixelRatio
          ctx.font = `${11 * devicePixelRatio}px system-ui, sans-serif`
          for (const m of marks) {
            const x = u.valToPos(m.t, 'x', true)
            if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) continue
            ctx.beginPath()
            ctx.moveTo(x, u.bbox.top)
            ctx.lineTo(x, u.bbox.top + u.bbox.height)
            ctx.stroke()
            ctx.fillText(`step ${m.step + 1}`, x + 3 * devicePixelRatio, u.bbox.top + 11 * devicePixelRatio)
          }
          ctx.restore()
        },
      ],
    },
  }
}

function formatValue(v: number): string {
  if (v >= 100) return Math.round(v).toLocaleString('en-US')
  if (v >= 10) return v.toFixed(1)
  return Number.isInteger(v) ? String(v) : v.toFixed(2)
}

export const COLORS = {
  blue: '#2563eb',
  green: '#16a34a',
  amber: '#d97706',
  red: '#dc2626',
  purple: '#7c3aed',
  slate: '#475569',
  pink: '#db2777',
}
