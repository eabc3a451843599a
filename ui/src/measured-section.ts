/**
 * What the run measured beyond hits and latency, each panel hidden when the run has none of it:
 * the open model's schedule, dropped starts and service time beside the corrected latency (with
 * one sentence on what the difference means); custom counters (`this.incrCounter`); WebSocket
 * and gRPC traffic (messages, bytes, close codes, statuses by name).
 */
import type { ReportView } from '../../src/report/result.js'
import type { EndpointSummary, LatencyStats } from '../../src/stats/types.js'
import { DataTable } from './data-table.js'
import { h, replace, text } from './dom.js'
import { statusesOf } from './endpoint-table.js'
import * as f from './format.js'
import './measured-section.css'

interface CounterRow {
  name: string
  value: number
  perSec: number
}

export class MeasuredSection {
  /** The open model's panel: goes right under the plan. */
  readonly openModel: HTMLElement
  /** Counters and streams: go after the per-URL table. */
  readonly el: HTMLElement
  readonly #openHead = h('h2', {})
  readonly #dropped = h('div', { class: 'dropped', 'data-dropped': '' })
  readonly #compare = h('tbody')
  readonly #meaning = h('p', { class: 'meaning' })
  readonly #counters: DataTable<CounterRow>
  readonly #countersPanel: HTMLElement
  readonly #streams: DataTable<EndpointSummary>
  readonly #streamsPanel: HTMLElement

  constructor() {
    this.openModel = h(
      'section',
      { class: 'panel open-model', 'data-section': 'open-model', hidden: '' },
      this.#openHead,
      this.#dropped,
      h('table', { id: 'open-model', class: 'data compact' }, h('thead', {}, h('tr', {}, ...['', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms'].map((l, i) => h('th', i > 0 ? { class: 'num' } : {}, l)))), this.#compare),
      this.#meaning,
    )
    this.#counters = new DataTable<CounterRow>({
      id: 'counters',
      columns: [
        { label: 'Counter', kind: 'name', cell: (c) => c.name, title: (c) => c.name },
        { label: 'Value', num: true, cell: (c) => f.int(c.value), sortBy: (c) => c.value },
        { label: 'Per second', num: true, cell: (c) => f.rate(c.perSec), sortBy: (c) => c.perSec },
      ],
      key: (c) => c.name,
      empty: 'no counter',
      filter: false,
    })
    this.#countersPanel = h('section', { class: 'panel', 'data-section': 'counters', hidden: '' }, h('h2', {}, 'Counters'), this.#counters.el)
    this.#streams = new DataTable<EndpointSummary>({
      id: 'streams',
      columns: [
        { label: 'Kind', kind: 'method', cell: (e) => (e.method === 'WS' ? 'WebSocket' : 'gRPC') },
        { label: 'Name', kind: 'name', cell: (e) => e.name, title: (e) => e.name },
        { label: 'Connections / calls', num: true, cell: (e) => f.int(e.hits), sortBy: (e) => e.hits },
        { label: 'Messages in', num: true, cell: (e) => f.int(e.ws?.messagesIn ?? 0), sortBy: (e) => e.ws?.messagesIn ?? 0 },
        { label: 'Messages out', num: true, cell: (e) => f.int(e.ws?.messagesOut ?? 0), sortBy: (e) => e.ws?.messagesOut ?? 0 },
        { label: '↓ Bytes', num: true, cell: (e) => f.bytes(e.bytesIn), sortBy: (e) => e.bytesIn },
        { label: '↑ Bytes', num: true, cell: (e) => f.bytes(e.bytesOut), sortBy: (e) => e.bytesOut },
        { label: 'Statuses', kind: 'statuses', cell: (e) => f.counts({ ...statusesOf(e), ...e.errorKinds }) },
        { label: 'Close codes', kind: 'statuses', cell: (e) => f.counts(e.ws?.closeCodes ?? {}) },
      ],
      key: (e) => `${e.method} ${e.name}`,
      empty: 'none',
    })
    this.#streamsPanel = h('section', { class: 'panel', 'data-section': 'streams', hidden: '' }, h('h2', {}, 'WebSocket and gRPC'), this.#streams.el)
    this.el = h('div', { class: 'measured' }, this.#countersPanel, this.#streamsPanel)
  }

  update(view: ReportView): void {
    this.#updateOpenModel(view)
    const s = view.summary
    const counters = Object.entries(s.counters)
    this.#countersPanel.hidden = counters.length === 0
    const secs = s.durationMs / 1000
    if (counters.length > 0) this.#counters.update(counters.map(([name, value]) => ({ name, value, perSec: secs > 0 ? value / secs : 0 })))
    const streams = s.endpoints.filter((e) => e.ws !== undefined || e.method === 'GRPC')
    this.#streamsPanel.hidden = streams.length === 0
    if (streams.length > 0) this.#streams.update(streams)
  }

  #updateOpenModel(view: ReportView): void {
    const steps = view.run.plan.steps
    const s = view.summary
    const open = steps.some((st) => st.rate !== undefined) || s.service !== undefined
    this.openModel.hidden = !open
    if (!open) return
    const rates = steps.map((st) => st.rate).filter((r): r is number => r !== undefined)
    text(this.#openHead, `Open model: ${rates.join(' → ')} runs started per second on a schedule`)
    const dropped = s.dropped ?? view.live?.dropped ?? 0
    const scheduled = s.tests.run + dropped
    text(
      this.#dropped,
      dropped > 0
        ? `Dropped starts: ${f.int(dropped)} of ${f.int(scheduled)} scheduled (${f.percent(dropped / Math.max(1, scheduled))}) — no user was free in time (raise --max-users, or the service is too slow for this rate)`
        : 'Dropped starts: 0 — every scheduled run started',
    )
    this.#dropped.classList.toggle('bad', dropped > 0)
    const row = (label: string, l: LatencyStats | undefined): HTMLElement =>
      h('tr', {}, h('td', {}, label), ...[l?.p50, l?.p95, l?.p99, l?.max].map((v) => h('td', { class: 'num' }, l !== undefined && l.count > 0 ? f.ms(v) : '–')))
    replace(this.#compare, row('Latency, from the scheduled start', s.latency), row('Service time, from the request sent', s.service))
    text(this.#meaning, meaning(s.latency, s.service))
  }
}

/**
 * One sentence on what the gap between the two figures means: latency counts from when each run
 * was due to start (coordinated omission corrected), service time from when it was sent.
 */
export function meaning(latency: LatencyStats, service: LatencyStats | undefined): string {
  const base = 'Latency counts from when each run was due to start on the schedule; service time from when its request was actually sent.'
  if (service === undefined || service.count === 0 || latency.count === 0) return base
  const gap = latency.p95 - service.p95
  if (gap <= Math.max(5, service.p95 * 0.1)) return `${base} They agree (p95 ${f.ms(latency.p95)} vs ${f.ms(service.p95)} ms): runs started on time.`
  return `${base} At p95 runs waited ${f.ms(gap)} ms for a free user before sending (${f.ms(latency.p95)} vs ${f.ms(service.p95)} ms): the system fell behind the schedule, and users of a real service would have waited that long too.`
}
