/**
 * The live dashboard (`--dashboard [PORT]`): an HTTP server on 127.0.0.1 (unless told otherwise)
 * that serves the front end, pushes the merged state to it every second (server-sent events),
 * and answers `curl` on a small JSON API. It is an output like any other: it reads the snapshot
 * stream through the Reporter hooks, so a local run, a cluster run and `--attach` look the same.
 * Its one way back into the run is `stop()`, the same graceful stop as Ctrl-C.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { UsageError } from '../../errors.js'
import { Aggregator } from '../../stats/aggregator.js'
import { renderLivePage } from '../html/render-page.js'
import { loadUiAssets, UI_CSS, UI_JS } from '../html/ui-assets.js'
import type { LiveMessage } from '../page-data.js'
import type { Reporter, RunInfo, RunOutcome } from '../reporter.js'
import { finalView, liveView, runMeta, type ReportView, type RunMeta } from '../result.js'
import { judgeThresholds } from '../thresholds/judge.js'
import type { Threshold } from '../thresholds/threshold.js'
import { EventStream, type EventClient } from './event-stream.js'

export interface DashboardOptions {
  /** Default 127.0.0.1. */
  host?: string
  /** 0 picks a free port. */
  port: number
  /** Stops the run gracefully (the dashboard's Stop button, `POST /api/stop`). */
  stop: () => void
  /** Judged live on the merged results, for the page; the run's verdict is judged at the end. */
  thresholds?: readonly Threshold[]
  /** How often the page is updated; default 1000 ms. */
  pushIntervalMs?: number
  /** Keep serving once the run is over, until `close()` (`--dashboard-keep`). */
  keepOpen?: boolean
}

/** Seconds of series resent on every update: recent seconds still change as late snapshots arrive. */
const SERIES_TAIL_S = 12
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]'])

export class Dashboard implements Reporter {
  readonly #opts: DashboardOptions
  readonly #server: Server
  readonly #events = new EventStream()
  #url = ''
  #port = 0
  #run: RunMeta | undefined
  #aggregator: Aggregator | undefined
  #final: ReportView | undefined
  #timer: NodeJS.Timeout | undefined
  #stopRequested = false
  #closed = false
  #onStopAfterEnd: (() => void) | undefined

  constructor(opts: DashboardOptions) {
    this.#opts = opts
    this.#server = createServer((req, res) => {
      try {
        this.#route(req, res)
      } catch (err) {
        json(res, 500, { error: (err as Error).message })
      }
    })
    this.#server.keepAliveTimeout = 5000
  }

  /** The page's address, once listening: `http://127.0.0.1:PORT/`. */
  get url(): string {
    return this.#url
  }

  /** True once someone asked the run to stop from the dashboard. */
  get stopRequested(): boolean {
    return this.#stopRequested
  }

  /** Starts serving; a port in use is a usage error, before the run starts. */
  async listen(): Promise<string> {
    const host = this.#opts.host ?? '127.0.0.1'
    await new Promise<void>((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException): void => {
        reject(
          new UsageError(
            `--dashboard: cannot listen on ${host}:${this.#opts.port}: ${err.code === 'EADDRINUSE' ? 'the port is in use' : err.message}`,
            'pick another port (--dashboard 0 picks a free one)',
            'LOADS_ERR_DASHBOARD',
          ),
        )
      }
      this.#server.once('error', onError)
      this.#server.listen(this.#opts.port, host, () => {
        this.#server.off('error', onError)
        resolve()
      })
    })
    this.#port = (this.#server.address() as AddressInfo).port
    const shown = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host
    this.#url = `http://${shown}:${this.#port}/`
    return this.#url
  }

  /** Resolves when, after the run, someone presses Stop or POSTs /api/stop (with `keepOpen`). */
  waitForStopAfterEnd(): Promise<void> {
    return new Promise((resolve) => {
      this.#onStopAfterEnd = resolve
    })
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    clearInterval(this.#timer)
    this.#events.endAll()
    await new Promise<void>((resolve) => {
      this.#server.close(() => resolve())
      this.#server.closeAllConnections()
    })
  }

  // --- Reporter hooks: read only.

  onRunStart(info: RunInfo): void {
    this.#run = runMeta(info)
    this.#aggregator = new Aggregator({ startMs: info.startMs })
    this.#timer = setInterval(() => this.#push(), this.#opts.pushIntervalMs ?? 1000)
    this.#timer.unref()
  }

  onStep(): void {
    this.#push()
  }

  onSnapshot(_snapshot: unknown, aggregator: Aggregator): void {
    this.#aggregator = aggregator
  }

  async onRunEnd(outcome: RunOutcome, aggregator: Aggregator): Promise<void> {
    clearInterval(this.#timer)
    if (this.#run === undefined) return
    this.#final = finalView(this.#run, outcome, aggregator)
    const full = JSON.stringify({ view: this.#final, fullSeries: true, done: true } satisfies LiveMessage)
    for (const c of this.#events.clients) this.#events.send(c, 'view', full)
    this.#events.endAll()
    if (this.#opts.keepOpen !== true) await this.close()
  }

  // --- The state, as the page and the API see it.

  #view(): ReportView | undefined {
    if (this.#final !== undefined) return this.#final
    if (this.#run === undefined || this.#aggregator === undefined) return undefined
    const agg = this.#aggregator
    const ts = this.#opts.thresholds ?? []
    // Encoding every URL's histogram each second is only worth it for a name shared by several methods.
    const histograms = ts.some((t) => t.scope !== undefined && t.scope.method === undefined) ? agg.encodedHistograms() : undefined
    return liveView(this.#run, agg, ts.length > 0 ? judgeThresholds(ts, agg.summary(), histograms) : [])
  }

  #push(): void {
    if (this.#events.clients.size === 0) return
    const view = this.#view()
    if (view === undefined) return
    let full: string | undefined
    let tail: string | undefined
    for (const c of this.#events.clients) {
      if (c.hasFullSeries) {
        tail ??= JSON.stringify({ view: withTail(view), fullSeries: false, done: false } satisfies LiveMessage)
        this.#events.send(c, 'view', tail)
      } else {
        full ??= JSON.stringify({ view, fullSeries: true, done: false } satisfies LiveMessage)
        this.#events.send(c, 'view', full)
        c.hasFullSeries = true
      }
    }
  }

  #state(): string {
    return this.#final?.state ?? (this.#run === undefined ? 'starting' : 'running')
  }

  #requestStop(): void {
    if (this.#final !== undefined) {
      this.#onStopAfterEnd?.()
      return
    }
    this.#stopRequested = true
    this.#opts.stop()
  }

  // --- HTTP.

  #route(req: IncomingMessage, res: ServerResponse): void {
    if (!this.#hostAllowed(req)) return json(res, 421, { error: 'unexpected Host header' })
    const path = new URL(req.url ?? '/', 'http://x').pathname
    const method = req.method ?? 'GET'
    if (path === '/api/stop') {
      if (method !== 'POST') return json(res, 405, { error: 'POST /api/stop stops the run' }, { allow: 'POST' })
      // A page of another site must not stop the run: browsers send Origin on cross-site POSTs.
      if (!this.#sameOrigin(req)) return json(res, 403, { error: 'cross-origin stop refused' })
      const wasOver = this.#final !== undefined
      this.#requestStop()
      return json(res, 202, { stopping: !wasOver, state: this.#state() })
    }
    if (method !== 'GET' && method !== 'HEAD') return json(res, 405, { error: `${method} not allowed` }, { allow: 'GET' })
    switch (path) {
      case '/':
      case '/index.html':
        return send(res, 200, 'text/html; charset=utf-8', renderLivePage(`Loads: ${this.#run?.address ?? 'dashboard'}`), {
          'content-security-policy': "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'",
        })
      case `/assets/${UI_JS}`:
        return send(res, 200, 'text/javascript; charset=utf-8', loadUiAssets().js)
      case `/assets/${UI_CSS}`:
        return send(res, 200, 'text/css; charset=utf-8', loadUiAssets().css)
      case '/api/events':
        return this.#openEvents(res)
      case '/api/run':
        return json(res, 200, this.#apiRun())
      case '/api/stats':
        return json(res, 200, this.#apiStats())
      case '/api/series': {
        const view = this.#view()
        return json(res, 200, { state: this.#state(), series: view?.series ?? [] })
      }
      case '/api/summary': {
        const f = this.#final
        if (f === undefined) return json(res, 409, { error: 'the run is not over yet: see /api/stats', state: this.#state() })
        return json(res, 200, { state: f.state, exitCode: f.exitCode, ...(f.abortedBy !== undefined ? { abortedBy: f.abortedBy } : {}), summary: f.summary, thresholds: f.thresholds })
      }
      default:
        return json(res, 404, { error: `no ${path}`, api: ['/api/run', '/api/stats', '/api/series', '/api/summary', 'POST /api/stop', '/api/events'] })
    }
  }

  #openEvents(res: ServerResponse): void {
    const client: EventClient = this.#events.open(res)
    const view = this.#view()
    if (view !== undefined) {
      this.#events.send(client, 'view', JSON.stringify({ view, fullSeries: true, done: this.#final !== undefined } satisfies LiveMessage))
      client.hasFullSeries = true
      if (this.#final !== undefined) res.end()
    }
  }

  #apiRun(): object {
    const view = this.#view()
    const run = this.#run
    return {
      state: this.#state(),
      ...(run !== undefined ? { run } : {}),
      ...(view?.live !== undefined ? { step: view.live.step, activeUsers: view.live.activeUsers, elapsedMs: view.live.elapsedMs } : {}),
      ...(this.#final?.exitCode !== undefined ? { exitCode: this.#final.exitCode } : {}),
      stopRequested: this.#stopRequested,
      sources: view?.sources ?? [],
    }
  }

  #apiStats(): object {
    const view = this.#view()
    if (view === undefined) return { state: this.#state() }
    return { state: view.state, live: view.live ?? null, summary: view.summary, sources: view.sources, thresholds: view.thresholds }
  }

  #hostAllowed(req: IncomingMessage): boolean {
    const bound = this.#opts.host ?? '127.0.0.1'
    if (!LOOPBACK.has(bound)) return true
    // Bound to loopback: refuse other Host names (DNS rebinding from a web page).
    const host = (req.headers.host ?? '').replace(/:\d+$/, '')
    return host === '' || LOOPBACK.has(host)
  }

  #sameOrigin(req: IncomingMessage): boolean {
    const origin = req.headers.origin
    if (origin === undefined || origin === 'null') return origin === undefined
    try {
      return new URL(origin).host === req.headers.host
    } catch {
      return false
    }
  }
}

function withTail(view: ReportView): ReportView {
  const last = view.series.at(-1)?.t ?? 0
  return { ...view, series: view.series.filter((p) => p.t > last - SERIES_TAIL_S) }
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  send(res, status, 'application/json; charset=utf-8', `${JSON.stringify(body, null, 2)}\n`, headers)
}

function send(res: ServerResponse, status: number, type: string, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', ...headers })
  res.end(body)
}
