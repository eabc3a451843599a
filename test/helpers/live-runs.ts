import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
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

/**
 * LIVE_TEST with a way to stall one worker: each run notes `pid:threadId startMs` in $STARTS, GETs
 * $TARGET/hit, then, if $MARK is there, takes it, says so in $BLOCKING and blocks its event loop
 * until $RELEASE is there, as a worker thread that gets no CPU would be (sleeping, not spinning:
 * the machine's CPU stays free). One worker only takes it: another's unlinkSync fails (not rmSync,
 * which ignores ENOENT once its lstat saw the file: two workers in step both took it). The test
 * decides when it wakes, so a busy machine cannot end the block before the test has looked.
 * `blockingEnv`, `blockOneWorker`, `releaseWorker` and `runStarts` drive it from a test. (A worker
 * blocked 10 s is ended as stuck: release it well before.)
 */
export const BLOCKING_LIVE_TEST = `
import { appendFileSync, existsSync, unlinkSync, writeFileSync } from 'node:fs'
import { threadId } from 'node:worker_threads'
import { TestCase } from 'loads-runner'

export class Live extends TestCase {
  async test_get() {
    appendFileSync(process.env.STARTS!, process.pid + ':' + threadId + ' ' + Date.now() + '\\n')
    const res = await this.session.get(process.env.TARGET + '/hit')
    this.assertEqual(res.status, 200)
    try {
      unlinkSync(process.env.MARK!)
    } catch {
      return
    }
    writeFileSync(process.env.BLOCKING!, process.pid + ':' + threadId)
    const nap = new Int32Array(new SharedArrayBuffer(4))
    while (!existsSync(process.env.RELEASE!)) Atomics.wait(nap, 0, 0, 5)
  }
}
`

/** BLOCKING_LIVE_TEST's variables, its files in `dir`. */
export function blockingEnv(dir: string): Record<string, string> {
  return { MARK: path.join(dir, 'mark'), BLOCKING: path.join(dir, 'blocking'), RELEASE: path.join(dir, 'release'), STARTS: path.join(dir, 'starts') }
}

/** Has one worker of a BLOCKING_LIVE_TEST run block after its run's request, until `releaseWorker`; resolves with its `pid:threadId` once it does. */
export async function blockOneWorker(dir: string): Promise<string> {
  const env = blockingEnv(dir)
  rmSync(env.BLOCKING!, { force: true })
  rmSync(env.RELEASE!, { force: true })
  writeFileSync(env.MARK!, '')
  await within(10_000, 'a worker blocking', () => existsSync(env.BLOCKING!))
  return readFileSync(env.BLOCKING!, 'utf8')
}

/** Wakes the worker `blockOneWorker` blocked. */
export function releaseWorker(dir: string): void {
  writeFileSync(blockingEnv(dir).RELEASE!, '')
}

/** Every run a BLOCKING_LIVE_TEST run started so far: which worker (`pid:threadId`), when (ms since epoch). */
export function runStarts(dir: string): { worker: string; ms: number }[] {
  return readFileSync(blockingEnv(dir).STARTS!, 'utf8')
    .trim()
    .split('\n')
    .map((line) => line.split(' '))
    .map(([worker, ms]) => ({ worker: worker!, ms: Number(ms) }))
}

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

/** The pause fields of `api/stats`' live view (docs/live-control.md). */
export interface PauseFields {
  paused?: boolean
  pauseState?: 'pausing' | 'paused' | 'resuming'
  pausePending?: number
}

/**
 * Polls `api/stats` (every 20 ms, up to `limitMs`) until its live view's `pauseState` is `state`
 * (`running`: absent); resolves with that view's pause fields.
 */
export async function pauseStateIs(url: string, state: 'pausing' | 'paused' | 'resuming' | 'running', limitMs = 15_000): Promise<PauseFields> {
  const start = performance.now()
  for (;;) {
    const stats = (await fetch(new URL('api/stats', url)).then((r) => r.json())) as { live?: PauseFields | null }
    const live = stats.live ?? undefined
    if (live !== undefined && (live.pauseState ?? 'running') === state) return live
    if (performance.now() - start > limitMs) throw new Error(`the run's pause state was ${live?.pauseState ?? 'running'}, not ${state}, ${limitMs} ms on`)
    await sleep(20)
  }
}

/**
 * After a pause: waits (up to `limitMs`) until the run says `paused`, which it does once every
 * worker (every agent) said it holds its users. The API answers a pause once the coordinator has
 * sent it, not once the workers applied it: a worker that gets no CPU for half a second then (a
 * loaded 2-core machine) leaves the server as quiet as a paused run would, and its users start
 * one more run each when it wakes. From `paused` on no run starts; requests already sent may
 * still be in flight: `settled` waits for those.
 */
export async function heldByWorkers(url: string, limitMs = 15_000): Promise<void> {
  await pauseStateIs(url, 'paused', limitMs)
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
