import { readFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import type { RunResult } from '../../src/report/result.js'
import { heldByWorkers, liveRuns, post, settled, sleep, within } from '../helpers/live-runs.js'

describe('live control of an open-model run through the dashboard API', () => {
  const runs = liveRuns()

  it('scales the rate of an open-model run, and pause stops every start', async () => {
    runs.server().arrivals.length = 0
    const run = runs.start(['live.Live.test_get', '--rate', '20', '-d', '90s', '--max-users', '100', '-w', '2', '--output', 'json:open.json'])
    const url = await run.url
    await within(60_000, 'the first arrivals', () => runs.server().arrivals.length >= 10)

    const users = await post(url, 'scale', { users: 10 })
    expect(users.status).toBe(409)
    expect((await post(url, 'scale', { rate: 100 })).status).toBe(202)
    await sleep(500)
    // Two seconds at 100/s, as the server counts them.
    const from = performance.now()
    await sleep(2000)
    const seen = runs.server().arrivals.filter((t) => t >= from && t < from + 2000).length
    // 200 on time; a loaded machine's late starts bunch across the window's edges: a generator
    // 700 ms behind at the window's start catches up inside it (274 seen at load 28). 20/s would
    // be 40, a rate applied twice 400.
    expect(seen).toBeGreaterThanOrEqual(120)
    expect(seen).toBeLessThanOrEqual(340)

    expect((await post(url, 'pause')).status).toBe(202)
    // Once every worker said it holds its arrivals, then no request in flight.
    await heldByWorkers(url)
    const paused = await settled(runs.server())
    await sleep(1000)
    expect(runs.server().arrivals.length).toBe(paused)
    expect((await post(url, 'resume')).status).toBe(202)
    await within(10_000, 'arrivals again after resume', () => runs.server().arrivals.length > paused)

    expect((await post(url, 'stop')).status).toBe(202)
    const r = await run.done
    expect(r.code).toBe(130)
    const result = JSON.parse(readFileSync(path.join(runs.dir(), 'open.json'), 'utf8')) as RunResult
    expect(result.summary.hits).toBe(runs.server().arrivals.length)
    expect(result.changes?.map((c) => c.action)).toEqual(['scale', 'pause', 'resume', 'stop'])
    expect(result.changes?.[0]).toMatchObject({ rate: 100, by: 'api' })
  }, 120_000)
})
