/**
 * The front end's entry: the page carries its data in `<script id="loads-data"
 * type="application/json">`. A static report and a comparison draw once from it; the live
 * dashboard follows the runner's event stream (`api/events`) and can stop the run.
 */
import type { LiveMessage, PageData } from '../../src/report/page-data.js'
import type { ReportView } from '../../src/report/result.js'
import type { NameSeries, SeriesPoint } from '../../src/stats/types.js'
import type { GeneratorSeries } from '../../src/stats/generator-types.js'
import { mergeGeneratorTail } from '../../src/report/generator-series-tail.js'
import { renderCompare } from './compare-page.js'
import { h } from './dom.js'
import { RunPage } from './run-page.js'
import { afterRunBar, renderStartForm, type WebInfo } from './web-form.js'
import './styles.css'
import './print.css'

function start(): void {
  const root = document.getElementById('app')
  const dataEl = document.getElementById('loads-data')
  if (root === null || dataEl === null) return
  const data = JSON.parse(dataEl.textContent ?? '{}') as PageData
  switch (data.kind) {
    case 'run': {
      const page = new RunPage(root, { live: false, loadsVersion: data.loadsVersion, generatedMs: data.generatedMs })
      page.update(data.view)
      document.title = `Loads report: ${data.view.run.address}`
      break
    }
    case 'compare':
      renderCompare(root, data)
      document.title = 'Loads comparison'
      break
    case 'live':
      void startLive(root)
      break
  }
}

/** A `--web` runner with no run yet shows its start form; any other live page follows the run. */
async function startLive(root: HTMLElement): Promise<void> {
  const info = (await fetch('api/run')
    .then((r) => r.json())
    .catch(() => ({}))) as { state?: string; web?: WebInfo & { address: string } }
  if (info.web !== undefined && info.state === 'idle') renderStartForm(root, info.web.address, info.web)
  else followLive(root, info.web)
}

function followLive(root: HTMLElement, web?: WebInfo & { address: string }): void {
  const page = new RunPage(root, { live: true, onStop: stopRun, control: true, nameSeries: fetchNameSeries })
  const status = h('div', { class: 'connection', hidden: '' })
  document.body.append(status)
  let series: SeriesPoint[] = []
  let generator: GeneratorSeries | undefined
  let titled = false
  const events = new EventSource('api/events')
  events.addEventListener('view', (ev) => {
    const msg = JSON.parse((ev as MessageEvent<string>).data) as LiveMessage
    series = msg.fullSeries ? msg.view.series : mergeTail(series, msg.view.series)
    const tail = msg.view.generatorSeries
    if (tail !== undefined) generator = msg.fullSeries ? tail : mergeGeneratorTail(generator, tail)
    const view: ReportView = { ...msg.view, series, ...(generator !== undefined ? { generatorSeries: generator } : {}) }
    page.update(view)
    status.hidden = true
    if (!titled) {
      document.title = `Loads: ${view.run.address}`
      titled = true
    }
    if (msg.done) {
      events.close()
      // --web: the results stay; download them, or start another run.
      if (web !== undefined && root.querySelector('[data-web-after]') === null) root.prepend(afterRunBar(() => renderStartForm(root, web.address, web)))
    }
  })
  events.addEventListener('error', () => {
    if (events.readyState === EventSource.CLOSED) return
    status.textContent = 'Lost the connection to the runner; retrying…'
    status.hidden = false
  })
}

/** One name's latency per second, from the runner (the latency chart's picker). */
async function fetchNameSeries(method: string, name: string): Promise<NameSeries | undefined> {
  const res = await fetch(`api/name-series?${new URLSearchParams({ method, name }).toString()}`)
  return res.ok ? ((await res.json()) as NameSeries) : undefined
}

async function stopRun(): Promise<void> {
  const res = await fetch('api/stop', { method: 'POST', headers: { 'x-loads-by': 'page' } })
  if (!res.ok) throw new Error(`stop: HTTP ${res.status}`)
}

/** Replaces the points from the tail's first second on. */
function mergeTail(series: SeriesPoint[], tail: SeriesPoint[]): SeriesPoint[] {
  const from = tail[0]?.t
  if (from === undefined) return series
  return [...series.filter((p) => p.t < from), ...tail]
}

// Printing shows every error group open (tables draw all their rows themselves: data-table.ts).
window.addEventListener('beforeprint', () => {
  for (const d of document.querySelectorAll('details')) d.open = true
})

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start)
else start()
