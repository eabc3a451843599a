import { readFileSync } from 'node:fs'
import path from 'node:path'
import Ajv2020 from 'ajv/dist/2020.js'
import { describe, expect, it } from 'vitest'
import type { RunResult } from '../../src/report/result.js'
import { LOADS, runBin } from '../helpers/cli.js'
import { heldByWorkers, liveRuns, post, RUN_MS, settled, sleep, within } from '../helpers/live-runs.js'

describe('live control of a closed-model run through the dashboard API', () => {
  const runs = liveRuns()

  // Quiet, a scale up takes effect within 2 s and a scale down within a run plus 1 s; the limits
  // below allow a CI machine at load 30 (a test that fails under load costs every change of a CI run).
  it('scales 10 → 50 users and 50 → 5, pauses to zero requests, resumes; the JSON records every change', async () => {
    runs.server().arrivals.length = 0
    const run = runs.start(['live.Live.test_get', '-u', '10', '-d', '90s', '-w', '2', '--output', 'json:closed.json'])
    const url = await run.url
    await within(60_000, '10 users connected', () => runs.server().open === 10)

    expect((await post(url, 'scale', { users: 50 })).status).toBe(202)
    await within(15_000, '50 users at the server', () => runs.server().open === 50 && runs.server().inFlight >= 45)
    await sleep(300)
    expect(runs.server().open).toBe(50)

    expect((await post(url, 'scale', { users: 5 })).status).toBe(202)
    await within(RUN_MS + 10_000, '5 users left at the server', () => runs.server().open === 5)
    await sleep(300)
    expect(runs.server().open).toBe(5)
    expect(runs.server().inFlight).toBeLessThanOrEqual(5)

    const pause = await post(url, 'pause')
    expect(pause.status).toBe(202)
    // 202: the coordinator sent the pause; api/stats says paused once every worker holds its users.
    await heldByWorkers(url)
    const before = await settled(runs.server())
    await sleep(1000)
    expect(runs.server().arrivals.length).toBe(before)
    expect(runs.server().inFlight).toBe(0)
    const run2 = await fetch(new URL('api/run', url)).then((r) => r.json() as Promise<{ paused: boolean }>)
    expect(run2.paused).toBe(true)
    expect((await post(url, 'pause')).status).toBe(409)

    // `loads ctl` is the CLI's way to the same API.
    const ctl = await runBin(LOADS, ['ctl', 'resume', '--url', url], { cwd: runs.dir() })
    expect(ctl.stderr).toBe('')
    expect(ctl.stdout).toBe('resumed: applied\n')
    expect(ctl.code).toBe(0)
    await within(10_000, 'requests again after resume', () => runs.server().arrivals.length > before)
    await within(10_000, '5 users running again', () => runs.server().inFlight === 5)

    const refused = await runBin(LOADS, ['ctl', 'resume', '--url', url], { cwd: runs.dir() })
    expect(refused.stderr).toMatch(/the run refused \(HTTP 409\): the run is not paused/)
    expect(refused.code).toBe(1)
    const status = await runBin(LOADS, ['ctl', 'status'], { cwd: runs.dir(), env: { LOADS_DASHBOARD: url } })
    expect(status.stdout).toMatch(/^running, \d+ active users; changes: 50 users by api, 5 users by api, paused by api, resumed by cli\n$/)

    // The closed model has no rate to scale.
    const wrong = await post(url, 'scale', { rate: 10 })
    expect(wrong.status).toBe(409)
    expect(wrong.body.error).toMatch(/closed model/)
    expect((await post(url, 'scale', { users: -1 })).status).toBe(400)

    expect((await post(url, 'stop')).status).toBe(202)
    const r = await run.done
    expect(r.code).toBe(130)
    const result = JSON.parse(readFileSync(path.join(runs.dir(), 'closed.json'), 'utf8')) as RunResult
    // Every request the server received is a hit of the result, and no run failed.
    expect(result.summary.hits).toBe(runs.server().arrivals.length)
    expect(result.summary.tests.failures).toBe(0)
    // Only the stop cuts runs (the scale-down let its users finish theirs): Interrupted, never failures.
    expect(result.summary.tests.errors).toBeLessThanOrEqual(5)
    expect(result.summary.errors.filter((g) => g.kind !== 'Interrupted')).toEqual([])
    const changes = result.changes ?? []
    expect(changes.map((c) => ({ action: c.action, users: 'users' in c ? c.users : undefined, by: c.by }))).toEqual([
      { action: 'scale', users: 50, by: 'api' },
      { action: 'scale', users: 5, by: 'api' },
      { action: 'pause', users: undefined, by: 'api' },
      { action: 'resume', users: undefined, by: 'cli' },
      { action: 'stop', users: undefined, by: 'api' },
    ])
    const schema = JSON.parse(readFileSync(new URL('../../schema/loads-result.schema.json', import.meta.url), 'utf8')) as object
    const validate = new Ajv2020({ allErrors: true }).compile(schema)
    expect(validate(result), JSON.stringify(validate.errors)).toBe(true)
    // On the series' time axis, in order.
    const times = changes.map((c) => c.t ?? -1)
    expect(times.every((t, i) => t >= 0 && (i === 0 || t >= times[i - 1]!))).toBe(true)
  }, 150_000)
})
