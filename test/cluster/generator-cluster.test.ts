/**
 * Generator health in a cluster: a real nats-server, two real agents of two workers each — one
 * whose users burn 10 ms of CPU a run (BURN=1 in its environment: 20 of them fill a worker even
 * when the server answers slowly on a loaded machine), one whose users wait 200 ms instead — and the runner as a
 * real process. Each agent's figures reach the runner through the binary codec, merged over its
 * workers, and the warning names the starved agent, not the other.
 */
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunResult } from '../../src/report/result.js'
import { clusterEnv, idle, startAgent, waitForAgents, type AgentProcess } from '../helpers/agents.js'
import { LOADS_RUNNER, runBin, tempProject, testResult } from '../helpers/cli.js'
import { startCountingServer, type CountingServer } from '../helpers/counting-server.js'
import { startNatsServer, type NatsServer } from '../helpers/nats-server.js'

const GEN = `import { TestCase } from 'loads-runner'
export class Gen extends TestCase {
  async test_hit() {
    if (process.env.BURN === '1') {
      const end = performance.now() + 10
      while (performance.now() < end) {}
    } else {
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
    await this.session.get('/')
  }
}
`

let nats: NatsServer
let target: CountingServer
let busy: AgentProcess
let calm: AgentProcess
let env: NodeJS.ProcessEnv
let cwd: string

beforeAll(async () => {
  ;[nats, target] = await Promise.all([startNatsServer(), startCountingServer()])
  env = clusterEnv(nats)
  busy = startAgent({ ...env, BURN: '1' }, ['--workers', '2'])
  calm = startAgent(env, ['--workers', '2'])
  cwd = tempProject({ 'gen.ts': GEN })
  await waitForAgents(nats, idle([busy, calm]), 40_000)
})

afterAll(async () => {
  await Promise.all([busy, calm].filter(Boolean).map((a) => a.kill()))
  await Promise.all([nats?.stop(), target?.close()])
})

describe('generator health on two agents', () => {
  it("shows each agent's figures, merged over its workers; the threshold and the warnings name the starved agent", async () => {
    // Idle first: a retry may come while the agents still wind down the failed attempt's run
    // (the run then found one agent with 1 of its 2 workers).
    await waitForAgents(nats, idle([busy, calm]), 40_000)
    const r = await runBin(
      LOADS_RUNNER,
      ['gen.ts:Gen.test_hit', '-u', '40', '-d', '7s', '-w', '2', '--agents', '2', '--server-url', target.url, '--threshold', 'generator_elu<90%', '--output', 'json:out.json'],
      { cwd, env, timeoutMs: 90_000 },
    )
    expect(r.stderr).toBe('--output json:out.json: wrote out.json\n')
    const result = testResult(r.stdout)!
    expect(result).toEqual({ run: result.run, errors: 0, failures: 0 })
    expect(target.count).toBe(result.run)

    const saved = JSON.parse(readFileSync(path.join(cwd, 'out.json'), 'utf8')) as RunResult
    const g = saved.summary.generator!
    const busyId = g.sources.find((s) => s.source.endsWith(`-${busy.pid}`))
    const calmId = g.sources.find((s) => s.source.endsWith(`-${calm.pid}`))
    expect(g.sources).toHaveLength(2)
    // Each agent is one source of two threads: its workers merged, the busiest one's utilisation.
    expect(busyId).toMatchObject({ threads: 2 })
    expect(calmId).toMatchObject({ threads: 2 })
    expect(busyId!.elu.p95).toBeGreaterThanOrEqual(0.9)
    expect(calmId!.elu.p95).toBeLessThan(busyId!.elu.p95 - 0.2)
    // Warned about, live and in the summary: the busy agent, never the calm one for utilisation.
    // (On a machine loaded far past its cores a dip can break the busy agent's 5 s of ≥ 90%, and
    // the host's starvation can give the calm one a delay warning: both are then true warnings.)
    const busyWarnings = g.warnings.filter((w) => w.source === busyId!.source)
    expect(busyWarnings.length).toBeGreaterThan(0)
    expect(g.warnings.filter((w) => w.kind === 'elu' && w.source === calmId!.source)).toEqual([])
    expect(r.stdout).toMatch(new RegExp(`^warning: ${busyId!.source}: event-loop (utilisation ≥ 90%|delay p99 ≥ 50 ms) since `, 'm'))
    expect(r.stdout).toMatch(new RegExp(`^ {2}WARNING ${busyId!.source}: event-loop (utilisation|delay p99) ≥ [\\d%ms ]+ from \\d+ s to \\d+ s`, 'm'))
    expect(r.stdout).not.toMatch(new RegExp(`WARNING ${calmId!.source}: event-loop utilisation`))
    // A line per agent: one stands out.
    expect(r.stdout).toMatch(new RegExp(`^ {2}${busyId!.source} +utilisation max \\d+% p95 \\d+%`, 'm'))
    expect(r.stdout).toMatch(new RegExp(`^ {2}${calmId!.source} +utilisation max \\d+% p95 \\d+%`, 'm'))
    expect(r.stdout).toContain(`generator_elu ${(busyId!.elu.p95 * 100).toFixed(1)}% (${busyId!.source}, the worst of 2)`)
    expect(r.code).toBe(4)
  })
})
