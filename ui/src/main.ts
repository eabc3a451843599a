/**
 * The front end's entry: the page carries its data in `<script id="loads-data"
 * type="application/json">`. A static report and a comparison draw once from it; the live
 * dashboard follows the runner's event stream (`api/events`) and can stop the run.
 */
import type { LiveMessage, PageData } from '../../src/report/page-data.js'
import type { ReportView } from '../../src/report/result.js'
import type { SeriesPoint } from '../../src/stats/types.js'
import { renderCompare } from './compare-page.js'
import { h } from './dom.js'
import { RunPage } from './run-page.js'
import './styles.css'

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
      followLive(root)
      break
  }
}

function followLive(root: HTMLElement): void {
  const page = new RunPage(root, { live: true, onStop: stopRun })
  const status = h('div', { class: 'connection', hidden: '' })
  document.body.append(status)
  let series: SeriesPoint[] = []
  let titled = false
  const events = new EventSource('api/events')
  events.addEventListener('view', (ev) => {
    const msg = JSON.parse((ev as MessageEvent<string>).data) as LiveMessage
    series = msg.fullSeries ? msg.view.series : mergeTail(series, msg.view.series)
    const view: ReportView = { ...msg.view, series }
    page.update(view)
    status.hidden = true
    if (!titled) {
      document.title = `Loads: ${view.run.address}`
      titled = true
    }
    if (msg.done) events.close()
  })
  events.addEventListener('error', () => {
    if (events.readyState === EventSource.CLOSED) return
    status.textContent = 'Lost the connection to the runner; retrying…'
    status.hidden = false
  })
}

async function stopRun(): Promise<void> {
  const res = await fetch('api/stop', { method: 'POST' })
  if (!res.ok) throw new Error(`stop: HTTP ${res.status}`)
}

/** Replaces the points from the tail's first second on. */
function mergeTail(series: SeriesPoint[], tail: SeriesPoint[]): SeriesPoint[] {
  const from = tail[0]?.t
  if (from === undefined) return series
  return [...series.filter((p) => p.t < from), ...tail]
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start)
else start()
