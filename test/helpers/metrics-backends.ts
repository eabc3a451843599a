import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

/** A real backend process (prometheus, influxd) started by a test, ended by its PID. */
export interface BackendProcess {
  url: string
  port: number
  pid: number
  log(): string
  /** Ends the process (SIGTERM, then SIGKILL) and removes its data folder. */
  stop(): Promise<void>
}

/** A port free right now (the backends cannot report the port they picked for :0). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port
      s.close(() => resolve(port))
    })
  })
}

function spawnBackend(cmd: string, args: string[], dir: string, url: string, port: number, readyPath: string): Promise<BackendProcess> {
  const child: ChildProcess = spawn(cmd, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] })
  let log = ''
  child.stdout!.on('data', (d: Buffer) => (log += d.toString()))
  child.stderr!.on('data', (d: Buffer) => (log += d.toString()))
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, 'SIGTERM')
    const timer = setTimeout(() => {
      if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, 'SIGKILL')
    }, 10_000)
    await exited
    clearTimeout(timer)
    rmSync(dir, { recursive: true, force: true })
  }
  return (async () => {
    const deadline = Date.now() + 30_000
    while (Date.now() < deadline) {
      if (child.exitCode !== null) break
      try {
        const res = await fetch(`${url}${readyPath}`)
        await res.arrayBuffer()
        if (res.status < 300) return { url, port, pid: child.pid!, log: () => log, stop }
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 100))
    }
    await stop()
    throw new Error(`${cmd} did not start:\n${log}`)
  })()
}

/** Prometheus with the remote-write receiver (and native histograms, if asked) on a free port. */
export async function startPrometheus(opts: { nativeHistograms?: boolean } = {}): Promise<BackendProcess> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'loads-prometheus-'))
  writeFileSync(path.join(dir, 'prometheus.yml'), 'global:\n  scrape_interval: 1h\n')
  const port = await freePort()
  const args = [
    `--config.file=${path.join(dir, 'prometheus.yml')}`,
    `--storage.tsdb.path=${path.join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--web.enable-remote-write-receiver',
    '--log.level=warn',
    ...(opts.nativeHistograms === true ? ['--enable-feature=native-histograms'] : []),
  ]
  return spawnBackend('/usr/bin/prometheus', args, dir, `http://127.0.0.1:${port}`, port, '/-/ready')
}

/** One PromQL instant query; returns the result vector. */
export async function promQuery(url: string, query: string): Promise<{ metric: Record<string, string>; value?: [number, string]; histogram?: [number, { count: string; sum: string }] }[]> {
  const res = await fetch(`${url}/api/v1/query?${new URLSearchParams({ query, time: String(Date.now() / 1000) })}`)
  const body = (await res.json()) as { status: string; error?: string; data: { result: [] } }
  if (body.status !== 'success') throw new Error(`${query}: ${body.error}`)
  return body.data.result
}

/** InfluxDB 1.x on free ports (HTTP and the RPC bind address), data in a temp folder. */
export async function startInfluxdb(): Promise<BackendProcess> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'loads-influxdb-'))
  const port = await freePort()
  const rpc = await freePort()
  writeFileSync(
    path.join(dir, 'influxdb.conf'),
    [
      `reporting-disabled = true`,
      `bind-address = "127.0.0.1:${rpc}"`,
      `[meta]`,
      `  dir = "${path.join(dir, 'meta')}"`,
      `[data]`,
      `  dir = "${path.join(dir, 'data')}"`,
      `  wal-dir = "${path.join(dir, 'wal')}"`,
      `  query-log-enabled = false`,
      `[http]`,
      `  bind-address = "127.0.0.1:${port}"`,
      `  log-enabled = false`,
      `[monitor]`,
      `  store-enabled = false`,
      `[continuous_queries]`,
      `  enabled = false`,
      '',
    ].join('\n'),
  )
  return spawnBackend('/usr/bin/influxd', ['-config', path.join(dir, 'influxdb.conf')], dir, `http://127.0.0.1:${port}`, port, '/ping')
}

/** InfluxQL against a 1.x server; returns the first series' rows as objects. */
export async function influxQuery(url: string, db: string, q: string): Promise<Record<string, unknown>[]> {
  const res = await fetch(`${url}/query?${new URLSearchParams({ db, q })}`, { method: 'POST' })
  const body = (await res.json()) as { results: { error?: string; series?: { columns: string[]; values: unknown[][] }[] }[] }
  const r = body.results[0]
  if (r?.error !== undefined) throw new Error(`${q}: ${r.error}`)
  const s = r?.series?.[0]
  if (s === undefined) return []
  return s.values.map((row) => Object.fromEntries(s.columns.map((c, i) => [c, row[i]])))
}

/** One query of the shipped Grafana dashboard (deploy/grafana/loads-dashboard.json), its variables filled in for one run. */
export interface DashboardQuery {
  panel: string
  /** The title of the row the panel is in ('' above the first row). */
  row: string
  refId: string
  query: string
}

/**
 * Every query of the shipped dashboard for a run written with `mode` histograms (latency targets
 * are marked `classic_…` or `native_…` in their refId; only the run's kind is kept), with
 * `$run_id` set, every test and scenario, and `$__rate_interval` 1m.
 */
export function dashboardQueries(mode: 'classic' | 'native', runId: string): DashboardQuery[] {
  const file = fileURLToPath(new URL('../../deploy/grafana/loads-dashboard.json', import.meta.url))
  const dash = JSON.parse(readFileSync(file, 'utf8')) as { panels: { type: string; title: string; targets?: { expr: string; refId: string }[] }[] }
  const other = mode === 'classic' ? 'native' : 'classic'
  let row = ''
  return dash.panels.flatMap((p) => {
    if (p.type === 'row') row = p.title
    return (p.targets ?? [])
      .filter((t) => !t.refId.startsWith(other))
      .map((t) => ({
        panel: p.title,
        row,
        refId: t.refId,
        query: t.expr.replaceAll('$run_id', runId).replaceAll('$test', '.+').replaceAll('$scenario', '.*').replaceAll('$__rate_interval', '1m'),
      }))
  })
}

/** A dashboard panel's (single) query's result as `label values → value`, e.g. `{ 'browse': 30, 'buy': 16 }`. */
export async function panelValues(url: string, queries: DashboardQuery[], panel: string): Promise<Record<string, number>> {
  const q = queries.filter((x) => x.panel === panel)
  if (q.length !== 1) throw new Error(`panel ${panel}: ${q.length} queries`)
  const res = await promQuery(url, q[0]!.query)
  return Object.fromEntries(res.map((r) => [Object.values(r.metric).join(' '), Number(r.value![1])]))
}
