/**
 * Time charts on uPlot (bundled, MIT): x is seconds since the run started. Series labels are
 * fixed strings of ours, never user text.
 */
import uPlot from 'uplot'
import 'uplot/dist/uPlot.min.css'
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
}

const HEIGHT = 190

/** A chart in a panel; `setData` takes [x[], ...ys[]]. */
export class Chart {
  readonly el: HTMLElement
  #plot: uPlot | undefined
  readonly #spec: ChartSpec
  readonly #body: HTMLElement
  #data: uPlot.AlignedData = [[]]

  constructor(spec: ChartSpec) {
    this.#spec = spec
    this.#body = h('div', { class: 'chart-body' })
    this.el = h('section', { class: 'panel chart', 'data-chart': spec.title }, h('h2', {}, spec.title), this.#body)
    this.#data = [[], ...spec.lines.map(() => [])]
  }

  /** Draws once the panel is in the document (uPlot needs its width). */
  mount(): void {
    const width = this.#width()
    const spec = this.#spec
    const opts: uPlot.Options = {
      width,
      height: HEIGHT,
      padding: [8, 12, 0, 0],
      scales: { x: { time: false }, y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.08 : 1] } },
      legend: { live: true },
      cursor: { drag: { x: false, y: false } },
      axes: [
        { stroke: '#5b6472', grid: { stroke: '#eef0f3' }, ticks: { stroke: '#d9dde3' }, values: (_u, vals) => vals.map((v) => `${v}s`) },
        { stroke: '#5b6472', grid: { stroke: '#eef0f3' }, ticks: { stroke: '#d9dde3' }, size: 56, label: spec.unit, labelSize: 16, labelFont: '11px system-ui, sans-serif' },
      ],
      series: [
        { label: 'time (s)', value: (_u, v) => (v === null ? '–' : `${v}s`) },
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
    new ResizeObserver(() => {
      const w = this.#width()
      if (this.#plot !== undefined && Math.abs(this.#plot.width - w) > 2) this.#plot.setSize({ width: w, height: HEIGHT })
    }).observe(this.#body)
  }

  setData(data: uPlot.AlignedData): void {
    this.#data = data
    this.#plot?.setData(data)
  }

  #width(): number {
    return Math.max(240, Math.floor(this.#body.clientWidth || 480))
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
