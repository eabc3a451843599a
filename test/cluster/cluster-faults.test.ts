/**
 * What goes wrong in a cluster, each with a real nats-server on a random port and real agent
 * processes: an agent killed, the runner killed, the broker restarted, an agent of another
 * version, a test that will not load on one agent, and the broker as the door (auth, loopback).
 */
import { afterEach, describe, expect, it } from 'vitest'
import {
  agentLine,
  clusterEnv,
  idle,
  LOADS_AGENT,
  reportedHits,
  spawnTimed,
  startAgent,
  startAgents,
  waitForAgents,
  type AgentProcess,
} from '../helpers/agents.js'
import { LOADS_RUNNER, runBin, tempProject, testResult } from '../helpers/cli.js'
import { startCountingServer, type CountingServer } from '../helpers/counting-server.js'
import { startNatsServer, type NatsServer } from '../helpers/nats-server.js'
import { HEARTBEAT_MS, SILENCE_LIMIT_MS } from '../../src/cluster/protocol.js'

const SITE = `import { TestCase } from 'loads-runner'
if (process.env.LOADS_TEST_FAIL_LOAD === '1') throw new Error('this agent cannot load the test')
export class Site extends TestCase {
  async test_hit() {
    // process.pid in a worker thread is its agent's: the target counts each agent's requests.
    const res = await this.session.get('/', { headers: { 'x-agent-pid': String(process.pid) } })
    this.assertEqual(res.status, 200)
  }
}
`

const cleanups: (() => Promise<unknown>)[] = []
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((c) => c().catch(() => {})))
})

/** A broker, a target (answering after `delayMs`), `n` agents, and a project with the test. */
async function cluster(n: number, opts: { delayMs?: number; agentEnv?: (i: number) => NodeJS.ProcessEnv; agentArgs?: (i: number) => string[] } = {}) {
  const delay = opts.delayMs ?? 0
  const byAgent = new Map<number, number>()
  const [nats, target] = await Promise.all([
    startNatsServer(),
    startCountingServer((req, res) => {
      const pid = Number(req.headers['x-agent-pid'])
      byAgent.set(pid, (byAgent.get(pid) ?? 0) + 1)
      setTimeout(() => {
        res.writeHead(200, { 'content-type': 'text/plain' })
        res.end('ok')
      }, delay)
    }),
  ])
  const env = clusterEnv(nats)
  const agents = Array.from({ length: n }, (_, i) => startAgent({ ...env, ...opts.agentEnv?.(i) }, opts.agentArgs?.(i) ?? []))
  cleanups.push(async () => {
    await Promise.all(agents.map((a) => a.kill('SIGKILL')))
    await Promise.all([nats.stop(), target.close()])
  })
  const cwd = tempProject({ 'site.ts': SITE })
  await waitForAgents(nats, idle(agents))
  /** Resolves once agent `a` has made requests and its snapshots of them have had time to go out (a second boundary and more). */
  const hasReported = async (a: AgentProcess): Promise<void> => {
    for (const start = Date.now(); !(byAgent.get(a.pid)! > 0); ) {
      if (Date.now() - start > 30_000) throw new Error(`agent ${a.pid} made no request within 30 s`)
      await new Promise((r) => setTimeout(r, 50))
    }
    await new Promise((r) => setTimeout(r, 2500))
  }
  return { nats, target, env, agents, cwd, hasReported }
}

function idOf(a: AgentProcess): RegExp {
  return new RegExp(`\\S+-${a.pid}`)
}

describe('an agent SIGKILLed mid-run', () => {
  it('is noticed within 5 s; its results up to its last snapshot are kept; the run finishes with the others, partial (exit 3)', async () => {
    const { target, env, agents, cwd, hasReported } = await cluster(3, { delayMs: 2 })
    const runner = spawnTimed(LOADS_RUNNER, ['site.ts:Site.test_hit', '-u', '3', '-d', '8s', '--agents', '3', '--server-url', target.url], { cwd, env })
    const victim = agents[0]!
    // Killed once it has sent hits (a loaded machine may start it seconds after the others).
    await hasReported(victim)
    const killedAt = Date.now()
    victim.child.kill('SIGKILL')
    const lost = await runner.waitFor(/agent \S+ lost: no heartbeat/, 15_000)
    // SILENCE_LIMIT_MS (3 s) after its last heartbeat: within 5 s on a quiet machine; a loaded one
    // runs the runner's check and prints its line late, by seconds at load 30.
    expect(lost.atMs - killedAt).toBeLessThan(SILENCE_LIMIT_MS + HEARTBEAT_MS + 4000)
    expect(lost.text).toMatch(idOf(victim))

    const { code } = await runner.done
    expect(code).toBe(3)
    const out = runner.stdout()
    const victimLine = agentLine(out, `\\S+-${victim.pid}`)
    expect(victimLine?.state).toMatch(/^lost: no heartbeat for \d\.\d s; its results up to its last snapshot are kept/)
    expect(victimLine!.hits).toBeGreaterThan(0)
    for (const a of agents.slice(1)) expect(agentLine(out, `\\S+-${a.pid}`)?.state).toBe('finished')
    // Nothing invented: what was reported arrived; only the victim's last second is missing.
    const reported = reportedHits(out)!
    expect(reported).toBeLessThanOrEqual(target.count)
    expect(reported).toBeGreaterThan(0)
  })
})

describe('the runner SIGKILLed mid-run', () => {
  it('every agent stops generating load within 5 s, and is idle again', async () => {
    const { target, env, agents, cwd, nats } = await cluster(2, { delayMs: 2 })
    const runner = spawnTimed(LOADS_RUNNER, ['site.ts:Site.test_hit', '-u', '2', '-d', '60s', '--agents', '2', '--server-url', target.url], { cwd, env })
    await runner.waitFor(/^progress: \d+%/)
    await new Promise((r) => setTimeout(r, 1000))
    const killedAt = Date.now()
    runner.kill('SIGKILL')
    // Watch the target: when did the last request arrive? Until every agent said it stopped and
    // nothing came for 2 s more, or 12 s.
    let last = target.count
    let lastChangeMs = killedAt
    const stopped = (): boolean => agents.every((a) => /no heartbeat from the runner of \S+ for \d\.\d s: stopping the load/.test(a.log()))
    while (Date.now() - killedAt < 12_000 && !(stopped() && Date.now() - lastChangeMs > 2000)) {
      await new Promise((r) => setTimeout(r, 100))
      if (target.count !== last) {
        last = target.count
        lastChangeMs = Date.now()
      }
    }
    // SILENCE_LIMIT_MS (3 s) after the runner's last heartbeat: within 5 s on a quiet machine, later
    // by a loaded machine's delays; agents that never stopped would still be sending at 12 s.
    expect(lastChangeMs - killedAt).toBeLessThan(SILENCE_LIMIT_MS + HEARTBEAT_MS + 4000)
    expect(target.count).toBe(last)
    await waitForAgents(nats, idle(agents), 10_000)
    for (const a of agents) expect(a.log()).toMatch(/no heartbeat from the runner of \S+ for \d\.\d s: stopping the load/)
  })
})

describe('nats-server restarted mid-run', () => {
  it('agents and runner reconnect and the run completes with no snapshot lost or counted twice', async () => {
    const { nats, target, env, cwd, agents } = await cluster(2, { delayMs: 3 })
    const runner = spawnTimed(LOADS_RUNNER, ['site.ts:Site.test_hit', '-u', '2', '-c', '700', '--agents', '2', '--server-url', target.url], { cwd, env, timeoutMs: 90_000 })
    await runner.waitFor(/^progress: \d+%/)
    await new Promise((r) => setTimeout(r, 1000))
    await nats.restart()
    const { code } = await runner.done
    expect(runner.stderr()).toMatch(/lost the broker; reconnecting/)
    expect(code, runner.stdout() + runner.stderr()).toBe(0)
    expect(target.count).toBe(2800)
    expect(reportedHits(runner.stdout())).toBe(2800)
    expect(testResult(runner.stdout())).toEqual({ run: 2800, errors: 0, failures: 0 })
    for (const a of agents) {
      expect(a.log()).toMatch(/reconnected/)
      expect(agentLine(runner.stdout(), `\\S+-${a.pid}`)).toEqual({ hits: 1400, state: 'finished' })
    }
  })
})

describe('an agent of another version', () => {
  it('is named in a clear error when it would be needed, and skipped with a warning when not; the others run', async () => {
    const { target, env, cwd, agents, nats } = await cluster(3, { agentArgs: (i) => (i === 0 ? ['--as-version', '0.0.1'] : []) })
    const old = agents[0]!
    const tooFew = await runBin(LOADS_RUNNER, ['site.ts:Site.test_hit', '--agents', '3', '--server-url', target.url], { cwd, env })
    expect(tooFew.code).toBe(2)
    expect(tooFew.stderr).toMatch(new RegExp(`agent \\S+-${old.pid} runs Loads 0\\.0\\.1, this runner \\d+\\.\\d+\\.\\d+: not used`))
    expect(tooFew.stderr).toContain('--agents 3: only 2 idle agents')

    const ok = await runBin(LOADS_RUNNER, ['site.ts:Site.test_hit', '-u', '2', '-c', '10', '--agents', '2', '--server-url', target.url], { cwd, env })
    expect(ok.code).toBe(0)
    expect(ok.stderr).toMatch(/runs Loads 0\.0\.1.*not used/)
    expect(reportedHits(ok.stdout)).toBe(40)
    expect(target.count).toBe(40)
    await waitForAgents(nats, idle(agents))
  })
})

describe('a test that fails to load on one agent', () => {
  it('is a clear error at the runner (file:line); the other agents run the test; the run is partial', async () => {
    const { target, env, cwd, agents, nats } = await cluster(3, { agentEnv: (i) => (i === 0 ? { LOADS_TEST_FAIL_LOAD: '1' } : {}) })
    const broken = agents[0]!
    const r = await runBin(LOADS_RUNNER, ['site.ts:Site.test_hit', '-u', '2', '-c', '10', '--agents', '3', '--server-url', target.url], { cwd, env })
    expect(r.code).toBe(3)
    expect(r.stderr).toMatch(new RegExp(`agent \\S+-${broken.pid} could not load the test: .*site\\.ts:2:\\d+: the test module failed to load: Error: this agent cannot load the test`))
    expect(r.stderr).toContain('running on 2 of 3 agents')
    expect(reportedHits(r.stdout)).toBe(40)
    expect(target.count).toBe(40)
    expect(agentLine(r.stdout, `\\S+-${broken.pid}`)?.state).toMatch(/^refused the run: /)
    // Unaffected: every agent, the broken one included, is alive and idle.
    await waitForAgents(nats, idle(agents))
  })
})

describe('the broker is the door', () => {
  it('an agent refuses a non-loopback broker with neither authentication nor TLS', async () => {
    const r = await runBin(LOADS_AGENT, ['--broker', 'nats://10.255.0.1:4222'], { cwd: process.cwd(), env: { LOADS_CLUSTER_DIR: '/nonexistent' }, timeoutMs: 15_000 })
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('refusing to use the broker nats://10.255.0.1:4222 without authentication or TLS')
    expect(r.stderr).toContain('--allow-insecure')
  })

  it('a broker with a password turns away a runner without it, with a clear error', async () => {
    const nats = await startNatsServer({ user: 'loads', password: 's3cret' })
    cleanups.push(() => nats.stop())
    const cwd = tempProject({})
    const wrong = await runBin(LOADS_RUNNER, ['--ping-broker'], { cwd, env: { ...clusterEnv(nats), LOADS_BROKER_PASSWORD: 'wrong' } })
    expect(wrong.code).toBe(2)
    expect(wrong.stderr).toMatch(/the broker at nats:\/\/127\.0\.0\.1:\d+ refused our credentials/)
    const agents = startAgents(1, clusterEnv(nats))
    cleanups.push(() => Promise.all(agents.map((a) => a.kill())))
    await waitForAgents(nats, idle(agents))
    const right = await runBin(LOADS_RUNNER, ['--ping-broker'], { cwd, env: clusterEnv(nats) })
    expect(right.code).toBe(0)
    expect(right.stdout).toContain('agents: 1 (1 idle)')
  })
})
