/**
 * `loads-cluster`: a real nats-server and real agents started, supervised and stopped, with the
 * generated credentials as the only way in.
 */
import { readFileSync, statSync } from 'node:fs'
import { testTemp } from '../helpers/temp.js'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { LOADS_CLUSTER, reportedHits } from '../helpers/agents.js'
import { LOADS_RUNNER, runBin, tempProject } from '../helpers/cli.js'
import { startCountingServer } from '../helpers/counting-server.js'
import { freePort } from '../helpers/nats-server.js'
import { isAlive, readState } from '../../src/cluster/supervisor.js'

const dir = testTemp('loads-cluster-')
const env = { LOADS_CLUSTER_DIR: dir }

afterAll(async () => {
  // Whatever happened above, leave no broker or agent behind.
  await runBin(LOADS_CLUSTER, ['stop'], { cwd: dir, env })
})

async function until(check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await check()) return
    await new Promise((r) => setTimeout(r, 200))
  }
  throw new Error(`not within ${timeoutMs} ms`)
}

describe('loads-cluster', () => {
  it('says how to install nats-server when it is missing', async () => {
    const r = await runBin(LOADS_CLUSTER, ['start', '--nats-server', '/nonexistent/nats-server', '--dir', path.join(dir, 'unused')], { cwd: dir, env })
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('nats-server not found at /nonexistent/nats-server')
    expect(r.stderr).toContain('sudo apt-get install nats-server')
  })

  it('starts a broker and 2 agents, supervises them, runs a test on them, and stops', async () => {
    const port = await freePort()
    const start = await runBin(LOADS_CLUSTER, ['start', '--agents', '2', '--workers', '1', '--port', String(port), '--daemon'], { cwd: dir, env, timeoutMs: 60_000 })
    expect(start.stderr).toBe('')
    expect(start.code).toBe(0)
    expect(start.stdout).toContain(`broker:      nats://127.0.0.1:${port}`)
    expect(start.stdout).toContain(`credentials: ${path.join(dir, 'credentials.json')} (mode 0600`)

    // Generated credentials, readable by their owner only; the broker binds loopback and wants them.
    expect(statSync(path.join(dir, 'credentials.json')).mode & 0o777).toBe(0o600)
    const conf = readFileSync(path.join(dir, 'nats.conf'), 'utf8')
    expect(conf).toContain(`listen: "127.0.0.1:${port}"`)
    expect(conf).toMatch(/authorization \{\n {2}user: "loads"\n {2}password: "[A-Za-z0-9_-]{32}"/)
    expect(conf).toContain('max_payload: 8MB')
    const noCreds = await runBin(LOADS_RUNNER, ['--ping-broker', '--broker', `nats://127.0.0.1:${port}`], { cwd: dir, env: { LOADS_CLUSTER_DIR: '/nonexistent' } })
    expect(noCreds.code).toBe(2)
    expect(noCreds.stderr).toContain('refused our credentials')

    const status = await runBin(LOADS_CLUSTER, ['status'], { cwd: dir, env })
    expect(status.code).toBe(0)
    expect(status.stdout).toContain('agents: 2 connected (2 supervised here)')

    // Runners of this machine find the broker and its credentials with no flag at all.
    const target = await startCountingServer()
    const cwd = tempProject({ 'site.ts': `import { TestCase } from 'loads-runner'\nexport class Site extends TestCase {\n  async test_hit() {\n    await this.session.get('/')\n  }\n}\n` })
    const run = await runBin(LOADS_RUNNER, ['site.ts:Site.test_hit', '-u', '2', '-c', '10', '--agents', '2', '--server-url', target.url], { cwd, env })
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    expect(reportedHits(run.stdout)).toBe(40)
    expect(target.count).toBe(40)
    await target.close()

    // A crashed agent is restarted.
    const state = readState(dir)!
    const victim = state.agents[0]!.pid!
    process.kill(victim, 'SIGKILL')
    await until(() => (readState(dir)?.agents[0]?.restarts ?? 0) === 1, 15_000)
    await until(async () => (await runBin(LOADS_CLUSTER, ['status'], { cwd: dir, env })).stdout.includes('agents: 2 connected'), 15_000)
    const restarted = readState(dir)!.agents[0]!.pid!
    expect(restarted).not.toBe(victim)

    const stop = await runBin(LOADS_CLUSTER, ['stop'], { cwd: dir, env, timeoutMs: 40_000 })
    expect(stop.code).toBe(0)
    expect(stop.stdout).toContain('cluster stopped')
    for (const pid of [state.pid, state.natsPid!, restarted, state.agents[1]!.pid!]) expect(isAlive(pid), `pid ${pid}`).toBe(false)
    const after = await runBin(LOADS_CLUSTER, ['status'], { cwd: dir, env })
    expect(after.code).toBe(1)
    expect(after.stdout).toContain('no cluster running')
  }, 240_000)
})
