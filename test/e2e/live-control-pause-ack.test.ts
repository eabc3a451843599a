/**
 * A pause is "pausing" until every worker said it holds its users, then "paused"
 * (docs/live-control.md). The API answers a pause once the coordinator has sent it; a worker whose
 * event loop is busy (or starved of CPU) reads it later, and its users start runs until it does.
 * Here one of two workers blocks its event loop right when the pause is sent.
 */
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LOADS_RUNNER, startDashboardRun, tempProject } from '../helpers/cli.js'
import { blockingEnv, BLOCKING_LIVE_TEST, blockOneWorker, ctlInProcess, pauseStateIs, post, releaseWorker, runStarts, settled, sleep, watchServer, within, type PauseFields, type WatchServer } from '../helpers/live-runs.js'

const getJson = async <T>(url: string, route: string): Promise<T> => (await fetch(new URL(route, url)).then((r) => r.json())) as T

describe('a pause is acknowledged by every worker before the run says paused', () => {
  let server: WatchServer
  let dir = ''
  const file = (name: string): string => path.join(dir, name)
  beforeAll(async () => {
    server = await watchServer()
    dir = tempProject({ 'live.ts': BLOCKING_LIVE_TEST })
  })
  afterAll(() => server.close())

  it('says pausing (1 worker) while a worker is blocked, paused once it holds; no run starts after paused; loads ctl waits, then says who has not paused', async () => {
    const env = { TARGET: server.url, ...blockingEnv(dir) }
    const run = startDashboardRun(LOADS_RUNNER, ['live.Live.test_get', '-u', '2', '-w', '2', '-d', '90s', '--dashboard', '0', '-q', '--output', 'json:out.json'], { cwd: dir, env, timeoutMs: 120_000 })
    const url = await run.url
    await within(60_000, '2 users connected', () => server.open === 2)
    await sleep(1000)

    // The pause is sent while one worker is blocked (until released below).
    const blocked = await blockOneWorker(dir)
    const sentMs = Date.now()
    expect((await post(url, 'pause')).status).toBe(202)
    // The other worker says it holds within milliseconds (more on a busy machine); the blocked one cannot.
    const stats = async (): Promise<PauseFields> => (await getJson<{ live: PauseFields }>(url, 'api/stats')).live
    let live = await stats()
    expect(live.pauseState).toBe('pausing')
    for (const start = performance.now(); live.pausePending === 2; live = await stats()) {
      if (performance.now() - start > 8000) throw new Error('the worker not blocked did not say it holds within 8 s')
      await sleep(20)
    }
    await sleep(500)
    live = await stats()
    expect([live.paused, live.pauseState, live.pausePending]).toEqual([true, 'pausing', 1])
    const apiRun = await getJson<PauseFields>(url, 'api/run')
    expect([apiRun.paused, apiRun.pauseState, apiRun.pausePending]).toEqual([true, 'pausing', 1])

    releaseWorker(dir)
    live = await pauseStateIs(url, 'paused')
    // Whatever the server was sent before the workers said so has been read by now.
    await new Promise((r) => setImmediate(r))
    const pausedMs = Date.now()
    expect(live).toMatchObject({ paused: true, pauseState: 'paused' })
    expect(live.pausePending).toBeUndefined()
    // The blocked worker's user started one run more when it woke, before it read the pause; none
    // started anywhere after the run said paused.
    expect(runStarts(dir).filter((s) => s.worker === blocked && s.ms >= sentMs).length).toBe(1)
    expect(runStarts(dir).filter((s) => s.ms > pausedMs)).toEqual([])
    const arrived = await settled(server)
    await sleep(1000)
    expect(server.arrivals.length).toBe(arrived)
    expect(runStarts(dir).filter((s) => s.ms > pausedMs)).toEqual([])

    const resumed = await ctlInProcess(dir, {}, 'resume', '--url', url)
    expect([resumed.code, resumed.stdout, resumed.stderr]).toEqual([0, 'resumed: applied\n', ''])
    expect((await getJson<PauseFields>(url, 'api/run')).pauseState).toBe('running')
    await within(10_000, 'requests again after resume', () => server.arrivals.length > arrived)

    // loads ctl pause waits 5 s for every worker to hold, then says which have not.
    await blockOneWorker(dir)
    const ctl = await ctlInProcess(dir, {}, 'pause', '--url', url)
    expect([ctl.code, ctl.stderr]).toEqual([0, ''])
    expect(ctl.stdout).toBe('paused: applied\nbut 1 worker has not paused after 5 s: test runs may still start there until it does (loads ctl status says when)\n')
    const status = await ctlInProcess(dir, {}, 'status', '--url', url)
    expect(status.stdout).toMatch(/^running \(pausing\), \d+ active users; changes: paused by api, resumed by cli, paused by cli\n$/)
    releaseWorker(dir)
    await pauseStateIs(url, 'paused')
    expect((await ctlInProcess(dir, {}, 'status', '--url', url)).stdout).toMatch(/^running \(paused\), /)

    expect((await post(url, 'stop')).status).toBe(202)
    const r = await run.done
    expect(r.code).toBe(130)
    const result = JSON.parse(readFileSync(file('out.json'), 'utf8')) as { summary: { hits: number } }
    expect(result.summary.hits).toBe(server.arrivals.length)
  }, 120_000)
})
