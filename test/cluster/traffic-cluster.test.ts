/**
 * Issue 15's traffic models on three real agents (real nats-server): checks, groups and
 * per-method figures cross the agents' binary codec and merge exactly.
 */
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunResult } from '../../src/report/result.js'
import { clusterEnv, idle, startAgents, waitForAgents, type AgentProcess } from '../helpers/agents.js'
import { LOADS_RUNNER, runBin, tempProject, testResult } from '../helpers/cli.js'
import type { CountingServer } from '../helpers/counting-server.js'
import { startNatsServer, type NatsServer } from '../helpers/nats-server.js'
import { CLASSES, SHOP_TEST, startShopServer } from '../helpers/shop-test.js'

const ENV_TEST = `import { TestCase } from 'loads-runner'
const TARGET = process.env.TARGET
export class Env extends TestCase {
  async test_env() { await this.session.get(TARGET + '/env', { headers: { 'x-token': this.env.TOKEN } }) }
}
`

const SCENARIOS_TEST = `import { TestCase } from 'loads-runner'
export class Browser extends TestCase {
  async test_browse() { await this.session.get('/sc/browse') }
}
export class Buyer extends TestCase {
  async test_buy() { await this.session.get('/sc/buy/' + this.env.KIND) }
}
`
const SCENARIOS_CONFIG = `[scenario.browse]
test = "sc.ts:Browser"
users = 4
hits = 5

[scenario.buy]
test = "sc.ts:Buyer"
rate = 6
duration = "1s"
start = "1s"
env = { KIND = "card" }
`

let nats: NatsServer
let target: CountingServer & { served500: () => number }
let agents: AgentProcess[]
let env: NodeJS.ProcessEnv
let cwd: string

beforeAll(async () => {
  ;[nats, target] = await Promise.all([startNatsServer(), startShopServer()])
  env = clusterEnv(nats)
  agents = startAgents(3, env)
  cwd = tempProject({ 'shop.ts': SHOP_TEST, 'env.ts': ENV_TEST, 'classes.ts': CLASSES, 'sc.ts': SCENARIOS_TEST, 'sc.toml': SCENARIOS_CONFIG })
  // Generous: three agents boot on a shared, loaded machine.
  await waitForAgents(nats, idle(agents), 50_000)
}, 60_000)

afterAll(async () => {
  await Promise.all((agents ?? []).map((a) => a.kill()))
  await Promise.all([nats?.stop(), target?.close()])
})

describe('traffic models on three agents', () => {
  it('checks and groups count exactly what the server answered, merged over the agents', async () => {
    const r = await runBin(LOADS_RUNNER, ['shop.ts:Shop', '--agents', '3', '-u', '4', '-c', '10', '--server-url', target.url, '-q', '--output', 'json:c.json'], { cwd, env, timeoutMs: 110_000 })
    // Every agent runs the whole plan: 3 × 40 runs of each method.
    expect(testResult(r.stdout), r.stderr).toEqual({ run: 240, errors: 0, failures: 120 })
    expect(target.countByPath.get('/item')).toBe(120)
    const { summary } = JSON.parse(readFileSync(path.join(cwd, 'c.json'), 'utf8')) as RunResult
    expect(summary.checks).toEqual([
      { name: 'always', passes: 120, failures: 0 },
      { name: 'says ok', passes: 120 - target.served500(), failures: target.served500() },
      { name: 'status is 200', passes: 120 - target.served500(), failures: target.served500() },
    ])
    expect(target.served500()).toBe(12)
    expect(summary.groups?.map((g) => [g.name, g.runs, g.failures, g.duration.count, g.requests])).toEqual([
      ['broken', 120, 120, 120, { 'GET /broken': 120 }],
      ['checkout', 120, 0, 120, { 'GET /cart': 120 }],
      ['checkout::pay', 120, 0, 120, { 'POST /pay': 120 }],
    ])
    expect(summary.methods?.map((m) => [m.name, m.runs, m.failures, m.duration.count]).sort()).toEqual([
      ['Shop.test_broken', 120, 120, 120],
      ['Shop.test_buy', 120, 0, 120],
    ])
  }, 120_000)

  it('-e reaches every agent as process.env (read at the module top level) and this.env, and is printed nowhere', async () => {
    const r = await runBin(LOADS_RUNNER, ['env.ts:Env', '--agents', '3', '-u', '2', '-c', '5', '-e', `TARGET=${target.url}`, '-e', 'TOKEN=tok-9f3a', '-q'], { cwd, env, timeoutMs: 110_000 })
    expect(testResult(r.stdout), r.stderr).toEqual({ run: 30, errors: 0, failures: 0 })
    expect(target.countByPath.get('/env')).toBe(30)
    expect(target.received.filter((q) => q.path === '/env' && q.headers['x-token'] === 'tok-9f3a')).toHaveLength(30)
    expect(r.stdout + r.stderr).not.toContain('tok-9f3a')
    for (const a of agents) expect(a.log()).not.toContain('tok-9f3a')
  }, 120_000)

  it('fixedCount and weights split the global users exactly over three agents', async () => {
    const before = new Map(target.countByPath)
    // 3 agents × 4 users = 12: Buyer 2 (fixed); 10 left → Browser 7.5, Admin 2.5 → 8 and 2 (a tie goes to the larger weight).
    const r = await runBin(LOADS_RUNNER, ['classes.ts', '--agents', '3', '-u', '4', '-c', '3', '--server-url', target.url, '-q'], { cwd, env, timeoutMs: 110_000 })
    expect(testResult(r.stdout), r.stderr).toEqual({ run: 36, errors: 0, failures: 0 })
    const delta = (p: string): number => (target.countByPath.get(p) ?? 0) - (before.get(p) ?? 0)
    expect([delta('/browse/Browser'), delta('/buy'), delta('/admin')]).toEqual([24, 6, 6])
  }, 120_000)

  it('scenarios are split exactly over the agents: users, arrivals and the figures per scenario', async () => {
    const r = await runBin(LOADS_RUNNER, ['--config', 'sc.toml', '--agents', '3', '--server-url', target.url, '-q', '--output', 'json:sc.json'], { cwd, env, timeoutMs: 110_000 })
    // 4 users × 5 runs and 6 runs/s for 1 s, over all three agents together (not each).
    expect(testResult(r.stdout), r.stderr).toEqual({ run: 26, errors: 0, failures: 0 })
    expect(target.countByPath.get('/sc/browse')).toBe(20)
    expect(target.countByPath.get('/sc/buy/card')).toBe(6)
    const result = JSON.parse(readFileSync(path.join(cwd, 'sc.json'), 'utf8')) as RunResult
    expect(result.summary.scenarios?.map((s) => [s.name, s.runs, s.hits, s.latency.count])).toEqual([
      ['browse', 20, 20, 20],
      ['buy', 6, 6, 6],
    ])
    // Agent g of 3 takes users g, g + 3 … (browse: 2, 1, 1 users × 5) and arrivals g, g + 3 … (2 each).
    expect(result.sources.map((s) => s.hits).sort((a, b) => a - b)).toEqual([7, 7, 12])
  }, 120_000)
})
