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
import type { ChangeEvent } from '../../load/control.js'
import type { LiveControl } from '../../runner/live-control.js'
import { Aggregator } from '../../stats/aggregator.js'
import type { Snapshot } from '../../stats/types.js'
import { renderLivePage } from '../html/render-page.js'
import { loadUiAssets, UI_CSS, UI_JS } from '../html/ui-assets.js'
import { DEFAULT_MAX_NAMES, MetricsState, scenarioTags } from '../metrics/metrics-state.js'
import { PROMETHEUS_TEXT_TYPE, prometheusText } from '../metrics/prometheus-text.js'
import type { LiveMessage } from '../page-data.js'
import type { Reporter, RunInfo, RunOutcome } from '../reporter.js'
import { finalView, liveView, runMeta, type ReportView, type RunMeta } from '../result.js'
import { tailGeneratorSeries } from '../generator-series-tail.js'
import { judgeThresholds } from '../thresholds/judge.js'
import type { Threshold } from '../thresholds/threshold.js'
import { AccessToken } from './access-token.js'
import { download } from './downloads.js'
import { EventStream, type EventClient } from './event-stream.js'
import { changedBy, controlRoute, isControlPath, type StartHandler } from './control-api.js'
import { buildResult, type RunResult } from '../result.js'
import { loadsVersion } from '../loads-version.js'
import { reportHtml } from '../html/html-report.js'

export interface DashboardOptions {
  /**
   * Default 127.0.0.1. Any other address than loopback requires a token on every request: the
   * one given, or one generated and put in `url`.
   */
  host?: string
  /** The token for a non-loopback host (default: 24 random characters). */
  token?: string
  /** An event-stream client that has not read its updates for this long is dropped (default 30 s). */
  dropStalledClientsAfterMs?: number
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
  /** Live control (`POST /api/scale`, `/api/pause`, `/api/resume`): bound by the coordinator to its run. */
  control?: LiveControl
  /**
   * `loads-runner TEST --web`: the dashboard starts with no run, its page shows a form whose
   * `POST /api/start` calls `start`; after each run its results stay (`/api/result.json`,
   * `/api/report.html`) and another may start.
   */
  web?: { address: string; defaults: Record<string, string | number>; start: StartHandler }
}

/** Seconds of series resent on every update: recent seconds still change as late snapshots arrive. */
const SERIES_TAIL_S = 12
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]'])

export class Dashboard implements Reporter {
  readonly #opts: DashboardOptions
  readonly #server: Server
  readonly #events: EventStream
  #url = ''
  #port = 0
  #run: RunMeta | undefined
  #aggregator: Aggregator | undefined
  #final: ReportView | undefined
  /** The last run's result (`--web`: downloadable as JSON and as the static report). */
  #result: RunResult | undefined
  /** `--web`: a run is being started (between POST /api/start and its onRunStart). */
  #starting = false
  #timer: NodeJS.Timeout | undefined
  #stopRequested = false
  #closed = false
  #onStopAfterEnd: (() => void) | undefined
  /** Required of every request when the dashboard listens beyond loopback. */
  #access: AccessToken | undefined
  /** What `GET /metrics` serves (Prometheus text format): the same series as `--output prometheus`. */
  #metrics: MetricsState | undefined
  /** The step the coordinator started last, and when (ms since epoch): the page tells a pause from a step. */
  #planStep = 0
  #stepStartedMs = 0
  /** Live changes made so far (docs/live-control.md). */
  #changes: ChangeEvent[] = []

  constructor(opts: DashboardOptions) {
    this.#opts = opts
    this.#events = new EventStream(opts.dropStalledClientsAfterMs !== undefined ? { dropAfterMs: opts.dropStalledClientsAfterMs } : {})
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
        // The port's fault, or the host's: the hint names the one to change.
        const hostFault = err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN' || err.code === 'EINVAL'
        const why =
          err.code === 'EADDRINUSE'
            ? 'the port is in use'
            : err.code === 'EADDRNOTAVAIL'
              ? `${host} is not an address of this machine`
              : err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN'
                ? `cannot resolve the host name ${host}`
                : err.code === 'EACCES'
                  ? `port ${this.#opts.port} needs privileges`
                  : err.message
        reject(
          new UsageError(
            `--dashboard: cannot listen on ${host}:${this.#opts.port}: ${why}`,
            hostFault
              ? '--dashboard-host takes an address of this machine: 127.0.0.1 (the default: this machine only), ::1, or 0.0.0.0 (every interface)'
              : 'pick another port (--dashboard 0 picks a free one)',
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
    if (!LOOPBACK.has(host)) this.#access = new AccessToken(this.#port, this.#opts.token)
    this.#url = `http://${shown}:${this.#port}/${this.#access !== undefined ? `?token=${this.#access.token}` : ''}`
    return this.#url
  }

  /** Bytes queued to the event stream's clients (bounded: see EventStream); for tests and health. */
  get eventBytesBuffered(): number {
    return this.#events.bufferedBytes()
  }

  /** Event-stream clients connected now. */
  get eventClients(): number {
    return this.#events.clients.size
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
    this.#changes = []
    this.#final = undefined
    this.#starting = false
    this.#stopRequested = false
    this.#planStep = 0
    this.#stepStartedMs = info.startMs
    this.#aggregator = new Aggregator({ startMs: info.startMs })
    this.#metrics = new MetricsState({ runId: info.runId, test: info.address, perAgent: info.mode === 'cluster', maxNames: DEFAULT_MAX_NAMES, scenarioTags: scenarioTags(info) })
    this.#timer = setInterval(() => this.#push(), this.#opts.pushIntervalMs ?? 1000)
    this.#timer.unref()
  }

  onStep(index: number): void {
    this.#planStep = index
    this.#stepStartedMs = Date.now()
    this.#push()
  }

  onChange(event: ChangeEvent): void {
    this.#changes.push(event)
    this.#push()
  }

  onSnapshot(snapshot: Snapshot | undefined, aggregator: Aggregator): void {
    this.#aggregator = aggregator
    if (snapshot !== undefined) this.#metrics?.add(snapshot)
  }

  async onRunEnd(outcome: RunOutcome, aggregator: Aggregator): Promise<void> {
    clearInterval(this.#timer)
    if (this.#run === undefined) return
    this.#final = finalView(this.#run, outcome, aggregator)
    if (this.#opts.web !== undefined) this.#result = buildResult(this.#run, outcome, aggregator, loadsVersion())
    const full = JSON.stringify({ view: this.#final, fullSeries: true, done: true } satisfies LiveMessage)
    for (const c of this.#events.clients) this.#events.send(c, 'view', full)
    this.#events.endAll()
    if (this.#opts.keepOpen !== true) await this.close()
  }

  // --- The state, as the page and the API see it.

  #view(): ReportView | undefined {
    // --web, between a Start and the run's first hook: the last run's view is not this run's.
    if (this.#starting) return undefined
    if (this.#final !== undefined) return this.#final
    if (this.#run === undefined || this.#aggregator === undefined) return undefined
    const agg = this.#aggregator
    const ts = this.#opts.thresholds ?? []
    // Encoding every URL's histogram each second is only worth it for a name shared by several methods.
    const histograms = ts.some((t) => t.scope !== undefined && t.scope.method === undefined) ? agg.encodedHistograms() : undefined
    const view = liveView(this.#run, agg, ts.length > 0 ? judgeThresholds(ts, agg.summary(), histograms) : [], Date.now(), this.#changes)
    if (view.live !== undefined) view.live = { ...view.live, planStep: this.#planStep, stepStartedMs: this.#stepStartedMs, ...this.#pauseFields() }
    return view
  }

  /** The live view's pause fields: `paused` as asked, and how far the workers (agents) are with it. */
  #pauseFields(): { paused?: true; pauseState?: 'pausing' | 'paused' | 'resuming'; pausePending?: number } {
    const control = this.#opts.control
    if (control === undefined) return {}
    const state = control.pauseState
    const pending = control.pausePending
    return {
      ...(control.paused ? { paused: true } : {}),
      ...(state !== 'running' ? { pauseState: state } : {}),
      ...(pending > 0 ? { pausePending: pending } : {}),
    }
  }

  #push(): void {
    if (this.#events.clients.size === 0) return
    const view = this.#view()
    if (view === undefined) return
    let full: string | undefined
    let tail: string | undefined
    for (const c of this.#events.clients) {
      // A client that has not taken the last update gets none now (see EventStream).
      if (!this.#events.ready(c)) continue
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
    if (this.#starting) return 'starting'
    return this.#final?.state ?? (this.#run === undefined ? (this.#opts.web !== undefined ? 'idle' : 'starting') : 'running')
  }

  #requestStop(req: IncomingMessage): void {
    if (this.#final !== undefined) {
      this.#onStopAfterEnd?.()
      return
    }
    this.#stopRequested = true
    // Recorded as a change (who stopped, when) when the run takes live control.
    const control = this.#opts.control
    if (control?.running === true) {
      // Over meanwhile (or its controller out of reach): the plain stop is harmless.
      Promise.resolve()
        .then(() => control.apply({ action: 'stop' }, changedBy(req)))
        .catch(() => this.#opts.stop())
      return
    }
    this.#opts.stop()
  }

  // --- HTTP.

  #route(req: IncomingMessage, res: ServerResponse): void {
    if (!this.#hostAllowed(req)) return json(res, 421, { error: 'unexpected Host header' })
    const url = new URL(req.url ?? '/', 'http://x')
    const access = this.#access
    if (access !== undefined && !access.allows(req, url)) {
      return json(res, 401, { error: 'this dashboard needs its token: open the URL the runner printed (…/?token=…), or send Authorization: Bearer TOKEN' }, { 'www-authenticate': 'Bearer' })
    }
    const path = url.pathname
    const method = req.method ?? 'GET'
    if (path === '/api/stop') {
      if (method !== 'POST') return json(res, 405, { error: 'POST /api/stop stops the run' }, { allow: 'POST' })
      // A page of another site must not stop the run: browsers send Origin on cross-site POSTs.
      if (!this.#sameOrigin(req)) return json(res, 403, { error: 'cross-origin stop refused' })
      const wasOver = this.#final !== undefined
      this.#requestStop(req)
      return json(res, 202, { stopping: !wasOver, state: this.#state() })
    }
    if (isControlPath(path)) {
      if (method !== 'POST') return json(res, 405, { error: `POST ${path} changes the run` }, { allow: 'POST' })
      if (!this.#sameOrigin(req)) return json(res, 403, { error: 'cross-origin control refused' })
      const web = this.#opts.web
      const start: StartHandler | undefined =
        web === undefined
          ? undefined
          : (body) => {
              if (this.#run !== undefined && this.#final === undefined) return 'a run is in progress: stop it first'
              if (this.#starting) return 'a run is starting'
              const started = web.start(body)
              if (typeof started !== 'string') this.#starting = true
              return started
            }
      return controlRoute(path, req, this.#opts.control, (status, body) => json(res, status, body), start)
    }
    if (method !== 'GET' && method !== 'HEAD') return json(res, 405, { error: `${method} not allowed` }, { allow: 'GET' })
    switch (path) {
      case '/':
      case '/index.html':
        return send(res, 200, 'text/html; charset=utf-8', renderLivePage(`Loads: ${this.#run?.address ?? 'dashboard'}`), {
          ...(access !== undefined ? { 'set-cookie': access.cookie(), 'referrer-policy': 'no-referrer' } : {}),
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
      case '/api/name-series': {
        // One name's latency per second, asked for when the page's latency chart picks it: the
        // event stream never carries every name's series (2,000 names would be megabytes a second).
        const method = url.searchParams.get('method') ?? ''
        const name = url.searchParams.get('name') ?? ''
        const series = this.#aggregator?.nameSeriesOf(method, name) ?? { method, name, t: [], p50: [], p95: [], p99: [] }
        return json(res, 200, series)
      }
      case '/metrics':
        return send(res, 200, PROMETHEUS_TEXT_TYPE, this.#metrics !== undefined ? prometheusText(this.#metrics) : '')
      case '/api/result.json':
      case '/api/report.html': {
        const result = this.#result
        if (result === undefined) return json(res, 409, { error: 'no run is over yet (the downloads are there with --web once a run ends)', state: this.#state() })
        const name = `loads-${result.run.runId}`
        if (path === '/api/result.json') return send(res, 200, 'application/json; charset=utf-8', `${JSON.stringify(result, null, 2)}\n`, { 'content-disposition': `attachment; filename="${name}.json"` })
        return send(res, 200, 'text/html; charset=utf-8', reportHtml(result), { 'content-disposition': `attachment; filename="${name}.html"` })
      }
      case '/api/summary': {
        const f = this.#final
        if (f === undefined) return json(res, 409, { error: 'the run is not over yet: see /api/stats', state: this.#state() })
        return json(res, 200, { state: f.state, exitCode: f.exitCode, ...(f.abortedBy !== undefined ? { abortedBy: f.abortedBy } : {}), summary: f.summary, thresholds: f.thresholds })
      }
      case '/api/download/result.json':
      case '/api/download/endpoints.csv': {
        const view = this.#view()
        const file = view !== undefined && this.#aggregator !== undefined ? download(path, view, this.#aggregator) : undefined
        if (file === undefined) return json(res, 409, { error: 'no run yet', state: this.#state() })
        return send(res, 200, file.type, file.body, { 'content-disposition': `attachment; filename="${file.name}"` })
      }
      default:
        return json(res, 404, { error: `no ${path}`, api: ['/api/download/result.json', '/api/download/endpoints.csv', '/api/run', '/api/stats', '/api/series', '/api/name-series?method=GET&name=/x', '/api/summary', 'POST /api/stop', 'POST /api/scale', 'POST /api/pause', 'POST /api/resume', 'POST /api/start', '/api/events', '/metrics'] })
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
      ...(this.#opts.web !== undefined ? { web: { address: this.#opts.web.address, defaults: this.#opts.web.defaults, result: this.#result !== undefined } } : {}),
      paused: this.#opts.control?.paused ?? false,
      pauseState: this.#opts.control?.pauseState ?? 'running',
      pausePending: this.#opts.control?.pausePending ?? 0,
      changes: this.#changes,
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
  const tail = { ...view, series: view.series.filter((p) => p.t > last - SERIES_TAIL_S) }
  if (view.generatorSeries !== undefined) tail.generatorSeries = tailGeneratorSeries(view.generatorSeries, last - SERIES_TAIL_S)
  return tail
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  send(res, status, 'application/json; charset=utf-8', `${JSON.stringify(body, null, 2)}\n`, headers)
}

function send(res: ServerResponse, status: number, type: string, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', ...headers })
  res.end(body)
}
