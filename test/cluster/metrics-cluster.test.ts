/**
 * Metrics outputs on a cluster run (real nats-server, two real agents, a real Prometheus): the
 * runner writes the merged figures once — one series per agent and scenario, no agent writes — and
 * their sum is the run's total; the per-URL series are per scenario, merged over the agents;
 * `--trace-context` reaches the agents' requests with the runner's run id.
 */
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunResult } from '../../src/report/result.js'
import { clusterEnv, idle, startAgents, waitForAgents, type AgentProcess } from '../helpers/agents.js'
import { LOADS_RUNNER, runBin, tempProject, testResult } from '../helpers/cli.js'
import { startCountingServer, type CountingServer } from '../helpers/counting-server.js'
import { promQuery, startPrometheus, type BackendProcess } from '../helpers/metrics-backends.js'
import { startNatsServer, type NatsServer } from '../helpers/nats-server.js'

const EXAMPLE = `
import { TestCase } from 'loads-runner'
export class TestApi extends TestCase {
  async test_ok() {
    await this.session.get('/ok')
    await new Promise((r) => setTimeout(r, 20))
  }
  async test_pay() {
    await this.session.post('/pay', { body: 'x' })
  }
}
`
// Two scenarios, each with a user on either agent.
const CONFIG = `[scenario.steady]
test = "example.ts:TestApi.test_ok"
users = 2
duration = "3s"

[scenario.pay]
test = "example.ts:TestApi.test_pay"
users = 2
hits = 5
tags = { team = "payments" }
`

let nats: NatsServer
let target: CountingServer
let prom: BackendProcess
let agents: AgentProcess[]
let env: NodeJS.ProcessEnv
let cwd: string

beforeAll(async () => {
  ;[nats, target, prom] = await Promise.all([startNatsServer(), startCountingServer(), startPrometheus()])
  env = clusterEnv(nats)
  agents = startAgents(2, env)
  cwd = tempProject({ 'example.ts': EXAMPLE, 'loads.toml': CONFIG })
  await waitForAgents(nats, idle(agents), 50_000)
}, 60_000)

afterAll(async () => {
  await Promise.all((agents ?? []).map((a) => a.kill()))
  await Promise.all([nats?.stop(), target?.close(), prom?.stop()])
})

describe('metrics outputs on a cluster run', () => {
  it('writes each series once, from the runner, labelled by agent and scenario; the sums are the totals the summary printed', async () => {
    const r = await runBin(
      LOADS_RUNNER,
      ['--config', 'loads.toml', '--agents', '2', '--server-url', target.url, '-q', '--trace-context', '--output', `prometheus:${prom.url}`, '--output', 'json:c.json'],
      { cwd, env, timeoutMs: 60_000 },
    )
    expect(r.stderr).toMatch(/--output prometheus:\S+: \d+ writes?\n/)
    expect(r.stderr).not.toMatch(/dropped/)
    const result = JSON.parse(readFileSync(path.join(cwd, 'c.json'), 'utf8')) as RunResult
    const hits = Number(/^Hits: (\d+)/m.exec(r.stdout)![1])
    expect(hits).toBe(target.count)
    expect(testResult(r.stdout)!.run).toBe(target.count)
    const runId = result.run.runId

    const series = await promQuery(prom.url, `loads_hits_total{run_id="${runId}"}`)
    // One series per agent and scenario (GET /ok, POST /pay: 2xx), none without an agent label, none twice.
    const agentIds = result.sources.map((s) => s.source).sort()
    expect(series.map((s) => `${s.metric.scenario} ${s.metric.name} ${s.metric.agent}`).sort()).toEqual([
      ...agentIds.map((a) => `pay /pay ${a}`),
      ...agentIds.map((a) => `steady /ok ${a}`),
    ])
    const byAgent: Record<string, number> = {}
    for (const s of series) byAgent[s.metric.agent!] = (byAgent[s.metric.agent!] ?? 0) + Number(s.value![1])
    for (const source of result.sources) expect(byAgent[source.source]).toBe(source.hits)
    expect(Object.values(byAgent).reduce((a, b) => a + b, 0)).toBe(hits)
    // Per scenario, the server's own counts; failures, bytes and latency merged over the agents.
    const one = async (q: string): Promise<number> => {
      const res = await promQuery(prom.url, q)
      expect(res, q).toHaveLength(1)
      return Number(res[0]!.value![1])
    }
    expect(target.countByPath.get('/pay')).toBe(10)
    expect(await one(`sum(loads_hits_total{run_id="${runId}",scenario="pay",team="payments",name="/pay"})`)).toBe(10)
    expect(await one(`sum(loads_hits_total{run_id="${runId}",scenario="steady",name="/ok"})`)).toBe(target.countByPath.get('/ok'))
    expect(await one(`loads_hit_duration_seconds_count{run_id="${runId}",scenario="pay",name="/pay"}`)).toBe(10)
    expect(await one(`loads_hit_duration_seconds_count{run_id="${runId}",scenario="steady",name="/ok"}`)).toBe(target.countByPath.get('/ok'))
    expect(result.summary.scenarios?.map((s) => [s.name, s.hits])).toEqual([['pay', 10], ['steady', target.countByPath.get('/ok')]])
    const users = await promQuery(prom.url, `loads_active_users{run_id="${runId}"}`)
    expect(users).toHaveLength(2)
    // The agents were given no --output: only the runner wrote.
    for (const a of agents) expect(a.log()).not.toMatch(/prometheus/)

    // --trace-context crossed to the agents: every request names the runner's run.
    expect(target.received).toHaveLength(hits)
    for (const req of target.received) {
      expect(req.headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/)
      expect(req.headers.tracestate).toBe(`loads=run:${runId}`)
    }
  }, 90_000)
})
