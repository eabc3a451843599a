/**
 * Issue 6's shapes and protocols in a cluster run: agents get the same Plan and RunConfig as
 * local workers (the rate, the data rows, the pause), plus their slot for the data partition.
 */
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunResult } from '../../src/report/result.js'
import { clusterEnv, idle, startAgents, waitForAgents, type AgentProcess } from '../helpers/agents.js'
import { LOADS_RUNNER, runBin, tempProject, testResult } from '../helpers/cli.js'
import { startCountingServer, type CountingServer } from '../helpers/counting-server.js'
import { startNatsServer, type NatsServer } from '../helpers/nats-server.js'
import { startEchoServer, type EchoServer } from '../helpers/ws-servers.js'

const TEST = `import { TestCase } from 'loads-runner'
export class Shaped extends TestCase {
  async test_row() {
    const row = this.data as { id: string }
    const res = await this.session.get('/row/' + row.id)
    this.assertEqual(res.status, 200)
    const ws = await this.createWs(process.env.WS_URL + '/echo').connect()
    await ws.send(row.id)
    this.assertEqual((await ws.receive()).text, row.id)
    await ws.close()
  }
}
`

let nats: NatsServer
let target: CountingServer
let echo: EchoServer
let agents: AgentProcess[]
let env: NodeJS.ProcessEnv
let cwd: string

beforeAll(async () => {
  ;[nats, target, echo] = await Promise.all([startNatsServer(), startCountingServer(), startEchoServer()])
  env = clusterEnv(nats, { WS_URL: echo.url })
  agents = startAgents(2, env)
  cwd = tempProject({ 'shaped.ts': TEST, 'users.csv': `id\n${Array.from({ length: 16 }, (_, i) => i).join('\n')}\n` })
  await waitForAgents(nats, idle(agents))
})

afterAll(async () => {
  await Promise.all((agents ?? []).map((a) => a.kill()))
  await Promise.all([nats?.stop(), target?.close(), echo?.close()])
})

describe('load shapes on two agents', () => {
  it('--rate 20:40 -d 1s --pause 500ms with unique data rows and a WebSocket: every agent runs the whole plan, rows partitioned', async () => {
    const r = await runBin(
      LOADS_RUNNER,
      ['shaped.ts:Shaped.test_row', '--agents', '2', '--rate', '20:40', '-d', '1s', '--pause', '500ms', '--max-users', '8', '--data', 'users.csv', '--data-mode', 'unique', '--server-url', target.url, '-q', '--output', 'json:cluster.json'],
      { cwd, env, timeoutMs: 60_000 },
    )
    expect(r.code, r.stderr).toBe(0)
    const { summary, run } = JSON.parse(readFileSync(path.join(cwd, 'cluster.json'), 'utf8')) as RunResult
    const runs = summary.tests.run
    // 20 + 40 starts due on each of the two agents: each started, or dropped and counted.
    expect(runs + summary.dropped!).toBe(120)
    expect(testResult(r.stdout)).toEqual({ run: runs, errors: 0, failures: 0 })
    expect(runs).toBeGreaterThan(90)
    expect(target.count).toBe(runs)
    expect(echo.opened).toBe(runs)
    expect(echo.messagesIn).toBe(runs)
    expect(summary.service?.count).toBe(2 * runs)
    expect(summary.endpoints.find((e) => e.method === 'WS')?.ws).toEqual({ messagesIn: runs, messagesOut: runs, closeCodes: { '1000': runs } })
    // Unique rows: agent slot 0 takes rows 0–7, slot 1 rows 8–15; each pool user keeps its row.
    const rows = [...target.countByPath.keys()].map((p) => Number(p.split('/')[2]))
    expect(rows.every((row) => row >= 0 && row < 16)).toBe(true)
    expect(rows.some((row) => row < 8)).toBe(true)
    expect(rows.some((row) => row >= 8)).toBe(true)
    expect(run.plan).toMatchObject({ pauseMs: 500, steps: [{ rate: 20 }, { rate: 40 }] })
  }, 90_000)
})
