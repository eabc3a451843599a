/**
 * Live control on the cluster (docs/live-control.md): the runner sends each change through the
 * run's control channel and every agent takes its share by its slot, so three real agents over a
 * real nats-server together run exactly the users asked, and all pause and resume.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunResult } from '../../src/report/result.js'
import { clusterEnv, idle, startAgents, waitForAgents, type AgentProcess } from '../helpers/agents.js'
import { LOADS, LOADS_RUNNER, runBin, startDashboardRun } from '../helpers/cli.js'
import { blockingEnv, BLOCKING_LIVE_TEST, blockOneWorker, ctlInProcess, heldByWorkers, liveRuns, pauseStateIs, post, releaseWorker, RUN_MS, runStarts, settled, sleep, within, type PauseFields } from '../helpers/live-runs.js'
import { startNatsServer, type NatsServer } from '../helpers/nats-server.js'

let nats: NatsServer
let agents: AgentProcess[]
let env: NodeJS.ProcessEnv

beforeAll(async () => {
  nats = await startNatsServer()
  env = clusterEnv(nats)
  agents = startAgents(3, env)
  await waitForAgents(nats, idle(agents))
})

afterAll(async () => {
  await Promise.all((agents ?? []).map((a) => a.kill()))
  await nats?.stop()
})


/** `loads ctl ARGS` in-process, in `cwd`, with the cluster's environment. */
const ctl = (cwd: string, ...args: string[]): ReturnType<typeof ctlInProcess> => ctlInProcess(cwd, env, ...args)

describe('live control of a run on three agents', () => {
  const runs = liveRuns()

  it('splits 20 users over the agents exactly, then 5; pauses all of them to zero requests and resumes', async () => {
    const server = runs.server()
    // The agents' workers read TARGET from -e (they do not inherit the runner's environment).
    const run = runs.start(['live.Live.test_get', '--agents', '3', '-u', '2', '-d', '90s', '-e', `TARGET=${server.url}`, '--output', 'json:cluster.json'], env)
    const url = await run.url
    // -u is per agent: 2 on each of 3.
    await within(60_000, '6 users connected', () => server.open === 6).catch(async (err: unknown) => {
      run.kill('SIGKILL')
      const r = await run.done
      throw new Error(`${(err as Error).message}; the runner said: ${r.stdout}\n${r.stderr}; open ${server.open}`)
    })

    expect((await post(url, 'scale', { users: 20 })).status).toBe(202)
    await within(15_000, '20 users at the server', () => server.open === 20)
    await sleep(300)
    expect(server.open).toBe(20)

    expect((await post(url, 'scale', { users: 5 })).status).toBe(202)
    await within(RUN_MS + 10_000, '5 users left at the server', () => server.open === 5)

    expect((await post(url, 'pause')).status).toBe(202)
    // Once every agent said all its workers hold their users, then no request in flight.
    await heldByWorkers(url)
    const paused = await settled(server)
    await sleep(1000)
    expect(server.arrivals.length).toBe(paused)
    expect(server.inFlight).toBe(0)
    expect((await post(url, 'resume')).status).toBe(202)
    await within(10_000, 'requests again after resume', () => server.arrivals.length > paused)
    await within(10_000, '5 users running again', () => server.inFlight === 5)

    expect((await post(url, 'stop')).status).toBe(202)
    const r = await run.done
    expect(r.code).toBe(130)
    const result = JSON.parse(readFileSync(path.join(runs.dir(), 'cluster.json'), 'utf8')) as RunResult
    expect(result.summary.hits).toBe(server.arrivals.length)
    expect(result.summary.tests.failures).toBe(0)
    expect(result.changes?.map((c) => c.action)).toEqual(['scale', 'scale', 'pause', 'resume', 'stop'])
    // Each agent took its share by its slot: 7 + 7 + 6, then 2 + 2 + 1.
    const shares = (n: number): number[] => agents.map((a) => Number(new RegExp(`scaled to ${n} users in all, (\\d+) here`).exec(a.log())?.[1])).sort()
    expect(shares(20)).toEqual([6, 7, 7])
    expect(shares(5)).toEqual([1, 2, 2])
  }, 180_000)

  it('changes a run by its id through the broker (loads ctl --run); an --attach session sees every change as it is made, and makes its own', async () => {
    const server = runs.server()
    server.arrivals.length = 0
    const run = runs.start(['live.Live.test_get', '--agents', '3', '-u', '1', '-d', '2m', '-e', `TARGET=${server.url}`, '--output', 'json:runner.json'], env)
    const url = await run.url
    await within(60_000, '3 users connected', () => server.open === 3)
    const { run: meta } = (await fetch(new URL('api/run', url)).then((r) => r.json())) as { run: { runId: string } }
    const id = meta.runId
    // An --attach session with its own dashboard, following the same run.
    const attach = startDashboardRun(LOADS_RUNNER, ['--attach', id, '--dashboard', '0', '--output', 'json:attach.json'], { cwd: runs.dir(), env, timeoutMs: 60_000 })
    const aUrl = await attach.url

    // By a unique prefix of its id, as --attach takes it; this one the real binary, the others in-process.
    const scaled = await runBin(LOADS, ['ctl', 'scale', '12', '--run', id.slice(0, 8)], { cwd: runs.dir(), env, timeoutMs: 30_000 })
    expect(scaled.stderr, scaled.stdout).toBe('')
    expect(scaled.stdout).toBe(`12 users: applied to run ${id}\n`)
    expect(scaled.code).toBe(0)
    await within(15_000, '12 users at the server', () => server.open === 12)
    // The attach session's page shows it (it read the change from the run's stream).
    for (const start = performance.now(); ; await sleep(50)) {
      const seen = (await fetch(new URL('api/run', aUrl)).then((res) => res.json())) as { changes: unknown[] }
      if (seen.changes.length === 1) break
      if (performance.now() - start > 15_000) throw new Error(`the attach session saw ${seen.changes.length} changes, not 1, within 15 s`)
    }

    // The attach session's API changes the run; the runner records it as made by an --attach session.
    const fromAttach = await post(aUrl, 'scale', { users: 3 })
    expect(fromAttach.status).toBe(202)
    expect(fromAttach.body.applied).toMatchObject({ action: 'scale', users: 3, by: 'attach' })
    await within(RUN_MS + 10_000, '3 users left at the server', () => server.open === 3)

    expect((await ctl(runs.dir(), 'pause', '--run', id)).code).toBe(0)
    await heldByWorkers(url)
    const paused = await settled(server)
    await sleep(1000)
    expect(server.arrivals.length).toBe(paused)
    const again = await ctl(runs.dir(), 'pause', '--run', id)
    expect(again.stderr).toBe(`error: run ${id} refused: the run is paused already\n`)
    expect(again.code).toBe(1)
    expect((await post(aUrl, 'resume')).status).toBe(202)
    await within(10_000, 'requests again after resume', () => server.arrivals.length > paused)

    const status = await ctl(runs.dir(), 'status', '--run', id)
    expect(status.stdout).toBe(`run ${id}: running, on 3 agents; changes: 12 users by cli, 3 users by attach, paused by cli, resumed by attach\n`)
    expect(status.code).toBe(0)

    const unknown = await ctl(runs.dir(), 'pause', '--run', 'no-such-run')
    expect(unknown.stderr).toMatch(/^error: no run no-such-run on the broker \(it holds \d+: the newest is /)
    expect(unknown.code).toBe(2)
    const noBroker = await ctl(runs.dir(), 'pause', '--run', id, '--broker', 'nats://127.0.0.1:1')
    expect(noBroker.stderr).toMatch(/^error: cannot reach the broker at nats:\/\/127\.0\.0\.1:1/)
    expect(noBroker.code).toBe(2)

    expect((await ctl(runs.dir(), 'stop', '--run', id)).stdout).toBe(`stopping: applied to run ${id}\n`)
    const [r, a] = await Promise.all([run.done, attach.done])
    expect(r.code).toBe(130)
    expect(a.code).toBe(130)
    // The plan line, rewritten at each change, in the attach session's log.
    expect(a.stdout).toMatch(/1 user for 2m, changed at 00:\d\d to 12 users by the CLI, on each of 3 agents/)
    expect(a.stdout).toMatch(/changed at 00:\d\d to 3 users by an --attach session, paused at 00:\d\d by the CLI, on each/)
    const read = (file: string): RunResult => JSON.parse(readFileSync(path.join(runs.dir(), file), 'utf8')) as RunResult
    const runner = read('runner.json')
    const attached = read('attach.json')
    const list = (res: RunResult): unknown[] => (res.changes ?? []).map((c) => [c.action, 'users' in c ? c.users : undefined, c.by, c.atMs, c.step])
    expect(list(runner).map((c) => (c as unknown[]).slice(0, 3))).toEqual([
      ['scale', 12, 'cli'],
      ['scale', 3, 'attach'],
      ['pause', undefined, 'cli'],
      ['resume', undefined, 'attach'],
      ['stop', undefined, 'cli'],
    ])
    // One list: the runner's and the attach session's are the same, to the millisecond.
    expect(list(attached)).toEqual(list(runner))
    expect(runner.summary.hits).toBe(server.arrivals.length)
  }, 180_000)

  it('says pausing while a worker of one agent is blocked, paused once every agent says its workers hold; no run starts after paused', async () => {
    const server = runs.server()
    server.arrivals.length = 0
    const dir = runs.dir()
    writeFileSync(path.join(dir, 'block.ts'), BLOCKING_LIVE_TEST)
    const vars = Object.entries({ TARGET: server.url, ...blockingEnv(dir) }).flatMap(([k, v]) => ['-e', `${k}=${v}`])
    const run = runs.start(['block.Live.test_get', '--agents', '3', '-u', '1', '-w', '1', '-d', '90s', ...vars, '--output', 'json:block.json'], env)
    const url = await run.url
    await within(60_000, '3 users connected', () => server.open === 3)
    await sleep(1000)

    // Agents say it in their snapshots, each second; the blocked worker holds up its agent until released.
    const blocked = await blockOneWorker(dir)
    const sentMs = Date.now()
    expect((await post(url, 'pause')).status).toBe(202)
    const stats = async (): Promise<PauseFields> => ((await fetch(new URL('api/stats', url)).then((r) => r.json())) as { live: PauseFields }).live
    let live = await stats()
    expect([live.paused, live.pauseState]).toEqual([true, 'pausing'])
    for (const start = performance.now(); live.pausePending !== 1; live = await stats()) {
      if (performance.now() - start > 8000) throw new Error(`${live.pausePending} agents, not 1, had not said they hold 8 s after the pause`)
      await sleep(20)
    }
    await sleep(500)
    live = await stats()
    expect([live.paused, live.pauseState, live.pausePending]).toEqual([true, 'pausing', 1])

    releaseWorker(dir)
    live = await pauseStateIs(url, 'paused')
    await new Promise((r) => setImmediate(r))
    const pausedMs = Date.now()
    expect([live.paused, live.pauseState, live.pausePending]).toEqual([true, 'paused', undefined])
    // The blocked worker's user started one run more when it woke; none started after paused.
    expect(runStarts(dir).filter((s) => s.worker === blocked && s.ms >= sentMs).length).toBe(1)
    const arrived = await settled(server)
    await sleep(1000)
    expect(server.arrivals.length).toBe(arrived)
    expect(runStarts(dir).filter((s) => s.ms > pausedMs)).toEqual([])

    expect((await post(url, 'resume')).status).toBe(202)
    await pauseStateIs(url, 'running')
    await within(10_000, 'requests again after resume', () => server.arrivals.length > arrived)
    expect((await post(url, 'stop')).status).toBe(202)
    const r = await run.done
    expect(r.code).toBe(130)
    const result = JSON.parse(readFileSync(path.join(dir, 'block.json'), 'utf8')) as RunResult
    expect(result.summary.hits).toBe(server.arrivals.length)
    await waitForAgents(nats, idle(agents), 20_000)
  }, 180_000)

  it('changes a detached run, which no runner follows, from what its stream holds', async () => {
    const server = runs.server()
    const submitted = await runBin(LOADS_RUNNER, ['live.Live.test_get', '--agents', '3', '-u', '1', '-d', '2m', '-e', `TARGET=${server.url}`, '--detach'], { cwd: runs.dir(), env, timeoutMs: 60_000 })
    const id = /^run (\S+) submitted to 3 agents/m.exec(submitted.stdout)?.[1]
    expect(id, submitted.stdout + submitted.stderr).toBeDefined()
    try {
      await within(60_000, '3 users connected', () => server.open === 3)
      const scaled = await ctl(runs.dir(), 'scale', '9', '--run', id!)
      expect(scaled.stderr, scaled.stdout).toBe('')
      expect(scaled.code).toBe(0)
      await within(15_000, '9 users at the server', () => server.open === 9)
      expect(agents.map((a) => /scaled to 9 users in all, (\d) here/.exec(a.log())?.[1])).toEqual(['3', '3', '3'])
      expect((await ctl(runs.dir(), 'pause', '--run', id!)).code).toBe(0)
      const paused = await settled(server)
      await sleep(1000)
      expect(server.arrivals.length).toBe(paused)
      expect(server.inFlight).toBe(0)
      const again = await ctl(runs.dir(), 'pause', '--run', id!)
      expect(again.stderr).toBe(`error: run ${id} refused: the run is paused already\n`)
      expect(again.code).toBe(1)
      expect((await ctl(runs.dir(), 'scale', '--rate', '5', '--run', id!)).stderr).toMatch(/the step running now is in the closed model/)
      const status = await ctl(runs.dir(), 'status', '--run', id!)
      expect(status.stdout).toBe(`run ${id}: running (paused), on 3 agents; changes: 9 users by cli, paused by cli\n`)
      expect((await ctl(runs.dir(), 'stop', '--run', id!)).code).toBe(0)
      await waitForAgents(nats, idle(agents), 20_000)
      const over = await ctl(runs.dir(), 'resume', '--run', id!)
      expect(over.stderr).toBe(`error: run ${id} refused: the run is over\n`)
      expect(over.code).toBe(1)
    } finally {
      if (id !== undefined) await ctl(runs.dir(), 'stop', '--run', id)
      await waitForAgents(nats, idle(agents), 20_000).catch(() => {})
    }
  }, 180_000)
})
