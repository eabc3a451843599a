import { readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Writable } from 'node:stream'
import { afterAll, beforeAll } from 'vitest'
import { LOADS_RUNNER, startDashboardRun, tempProject, type DashboardRun } from './cli.js'
import { resetOnRetry } from './retry-reset.js'

/** A test that GETs $TARGET/hit once per run. */
export const LIVE_TEST = `
import { TestCase } from 'loads-runner'

export class Live extends TestCase {
  async test_get() {
    const res = await this.session.get(process.env.TARGET + '/hit')
    this.assertEqual(res.status, 200)
  }
}
`

/** How long the server holds each request: one test run's length, ms. */
export const RUN_MS = 200

/** A server that counts its open connections, requests in flight and when each request arrived. */
export interface WatchServer {
  url: string
  open: number
  inFlight: number
  arrivals: number[]
  close(): Promise<void>
}

export async function watchServer(): Promise<WatchServer> {
  const state = { open: 0, inFlight: 0, arrivals: [] as number[] }
  const server: Server = createServer((req, res) => {
    state.arrivals.push(performance.now())
    state.inFlight++
    req.resume()
    setTimeout(() => {
      state.inFlight--
      res.end('ok')
    }, RUN_MS)
  })
  server.on('connection', (socket) => {
    state.open++
    socket.on('close', () => state.open--)
  })
  server.keepAliveTimeout = 30_000
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  // Open connections and requests in flight are the moment's, not counts: a retry keeps them.
  const forget = resetOnRetry(() => {
    state.arrivals.length = 0
  })
  return Object.assign(state, {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        forget()
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  })
}

/** Polls `ok` every 20 ms; resolves with the ms it took, or rejects after `limitMs`. */
export async function within(limitMs: number, what: string, ok: () => boolean): Promise<number> {
  const start = performance.now()
  while (!ok()) {
    if (performance.now() - start > limitMs) throw new Error(`${what}: not within ${limitMs} ms`)
    await new Promise((r) => setTimeout(r, 20))
  }
  return performance.now() - start
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/**
 * After a pause: waits (up to `limitMs`) until nothing is in flight and nothing arrived for a run's
 * length and more, and returns the count of arrivals then. A request already on its way when the
 * workers heard the pause may still arrive; how soon they hear it depends on the machine's load,
 * so the test asserts what follows: not one arrival more. Users that were never paused would
 * never leave the server that quiet (each starts its next run as soon as one ends).
 */
export async function settled(server: WatchServer, limitMs = 15_000): Promise<number> {
  const quietMs = RUN_MS + 250
  let count = server.arrivals.length
  let since = performance.now()
  await within(limitMs, 'no request in flight or arriving after the pause', () => {
    if (server.arrivals.length !== count || server.inFlight > 0) {
      count = server.arrivals.length
      since = performance.now()
    }
    return performance.now() - since >= quietMs
  })
  return server.arrivals.length
}

/**
 * After a pause of a closed-model run whose users send requests back to back: waits (up to
 * `limitMs`) until the run's own latest snapshots say no request is in flight on any worker
 * (`live.oldestInFlightMs` absent from `api/stats`). The API answers a pause once the coordinator
 * has sent it to the workers, not once they have heard it: a worker that gets no CPU for half a
 * second then (a loaded 2-core machine) leaves the server as quiet as a paused run would, and its
 * users start one more run each when it wakes. A user that is not held by the pause always has a
 * request in flight when its worker takes a snapshot (a timer): its response settles and its next
 * run's request starts in the same turn of the event loop. So once every worker has sent a
 * snapshot without one, every user is held and every request sent before was answered. (Call it
 * once the run has reported: before its first snapshots no request is in flight either.)
 */
export async function heldByWorkers(url: string, limitMs = 15_000): Promise<void> {
  const start = performance.now()
  for (;;) {
    const stats = (await fetch(new URL('api/stats', url)).then((r) => r.json())) as { live?: { oldestInFlightMs?: number } | null }
    if (stats.live != null && stats.live.oldestInFlightMs === undefined) return
    if (performance.now() - start > limitMs) throw new Error(`the workers still reported a request in flight ${limitMs} ms after the pause`)
    await sleep(100)
  }
}

export async function post(url: string, action: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(new URL(`api/${action}`, url), { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) })
  return { status: res.status, body: (await res.json()) as Record<string, unknown> }
}

/**
 * A temp project with LIVE_TEST and a WatchServer for this test file, and `start(args)`: the
 * runner with `--dashboard 0`, its dashboard URL once printed, killed if a test fails midway.
 */
export function liveRuns(): { dir: () => string; server: () => WatchServer; start(args: string[], env?: NodeJS.ProcessEnv): DashboardRun } {
  let dir = ''
  let server: WatchServer | undefined
  beforeAll(async () => {
    dir = tempProject({ 'live.ts': LIVE_TEST })
    server = await watchServer()
  })
  afterAll(() => server?.close())
  return {
    dir: () => dir,
    server: () => server!,
    start: (args, env = {}) => startDashboardRun(LOADS_RUNNER, [...args, '--dashboard', '0', '-q'], { cwd: dir, env: { ...env, TARGET: server!.url }, timeoutMs: 120_000 }),
  }
}

/** `loads ctl ARGS` in-process (a process each would cost seconds on a busy machine): its exit code and output. */
export async function ctlInProcess(cwd: string, env: NodeJS.ProcessEnv, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  // Loaded here: the other users of this helper need no CLI.
  const { runCli } = await import('../../src/cli/main.js')
  const out = { stdout: '', stderr: '' }
  const sink = (key: 'stdout' | 'stderr'): NodeJS.WritableStream => new Writable({ write: (chunk: Buffer, _e, cb) => ((out[key] += chunk.toString()), cb()) })
  const code = await runCli(['ctl', ...args], { stdout: sink('stdout'), stderr: sink('stderr'), isTTY: false, cwd, env, signal: new AbortController().signal })
  return { code, ...out }
}
