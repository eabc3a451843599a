/**
 * Hostile test code on an agent: a worker that crashes there reaches the runner as a note naming
 * the worker, its cause and the kind of its cut runs; an agent told to stop while a worker spins
 * stops within 5 s (its engine ends the thread), and the runner prints its summary.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { clusterEnv, idle, reportedHits, spawnTimed, startAgent, waitForAgents } from '../helpers/agents.js'
import { LOADS_RUNNER, tempProject, testResult } from '../helpers/cli.js'
import { startCountingServer } from '../helpers/counting-server.js'
import { HOSTILE_TESTS } from '../helpers/hostile-tests.js'
import { startNatsServer } from '../helpers/nats-server.js'

const cleanups: (() => Promise<unknown>)[] = []
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((c) => c().catch(() => {})))
})

async function oneAgent() {
  const [nats, target] = await Promise.all([startNatsServer(), startCountingServer()])
  const env = clusterEnv(nats, { TARGET: target.url })
  const agent = startAgent(env, ['--workers', '2'])
  cleanups.push(async () => {
    await agent.kill('SIGTERM')
    await Promise.all([nats.stop(), target.close()])
  })
  const cwd = tempProject({ 'hostile.ts': HOSTILE_TESTS })
  await waitForAgents(nats, idle([agent]), 90_000)
  return { nats, target, env, agent, cwd }
}

/** The ISO time an agent log line matching `re` starts with, ms. */
function loggedAt(log: string, re: RegExp): number | undefined {
  const line = log.split('\n').find((l) => re.test(l))
  const iso = line === undefined ? undefined : /^(\d{4}-\d\d-\d\dT[\d:.]+Z)/.exec(line)?.[1]
  return iso === undefined ? undefined : Date.parse(iso)
}

describe('hostile test code on an agent', () => {
  it('a worker crash there reaches the runner: the worker, its cause and the kind of its cut runs; exit 1; hits equal the server count', async () => {
    const { target, env, cwd } = await oneAgent()
    const runner = spawnTimed(LOADS_RUNNER, ['hostile.ts:Reject', '-u', '1', '-c', '10', '--agents', '1', '--snapshot-interval', '200ms'], { cwd, env, timeoutMs: 120_000 })
    const { code } = await runner.done
    const out = runner.stdout()
    expect(code, out + runner.stderr()).toBe(1)
    expect(runner.stderr()).toMatch(/agent \S+: \S+\/worker-0 crashed on an unhandled promise rejection: nobody awaits me/)
    expect(out).toMatch(/Agent workers:\n {2}\S+\/worker-0 crashed on an unhandled promise rejection: nobody awaits me.*\(WorkerCrashed errors\)/)
    expect(testResult(out)).toEqual({ run: 3, errors: 1, failures: 0 })
    expect(reportedHits(out)).toBe(3)
    expect(target.count).toBe(3)
    expect(out + runner.stderr()).not.toMatch(/\n\s+at |internal error/)
  }, 200_000)

  it('an agent told to stop while a worker spins stops within 5 s; the runner prints its summary (exit 130), hits equal the server count', async () => {
    const { target, env, agent, cwd, nats } = await oneAgent()
    const runner = spawnTimed(LOADS_RUNNER, ['hostile.ts:SpinOnce', '-u', '2', '-w', '2', '-d', '60s', '--agents', '1', '--snapshot-interval', '200ms'], { cwd, env, timeoutMs: 150_000 })
    await runner.waitFor(/^progress: \d+%/, 90_000)
    // Past the spinning user's 3 runs and its 600 ms pause: worker-0 spins, worker-1 loops.
    const deadline = Date.now() + 30_000
    while (target.count < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
    await new Promise((r) => setTimeout(r, 1500))
    runner.kill('SIGTERM')
    const { code } = await runner.done
    const out = runner.stdout()
    expect(code, out + runner.stderr()).toBe(130)
    expect(out).toContain('<TestResult run=')
    expect(reportedHits(out)).toBe(target.count)
    await waitForAgents(nats, idle([agent]), 30_000)
    // The agent's own clock: from the runner's stop to its run's end.
    const log = agent.log()
    const stopAt = loggedAt(log, /: stopped by the runner$/)
    const idleAt = loggedAt(log, /run \S+ stopped; idle$/)
    expect(stopAt, log).toBeDefined()
    expect(idleAt, log).toBeDefined()
    expect(idleAt! - stopAt!, log).toBeLessThan(5000)
  }, 240_000)
})
