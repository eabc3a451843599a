/**
 * `loads shell --broker`: the cluster commands against a real nats-server and real agents, and a
 * `.run --agents N` whose requests a counting server counts.
 */
import { existsSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { clusterEnv, idle, startAgents, waitForAgents, type AgentProcess } from '../helpers/agents.js'
import { LOADS, LOADS_RUNNER, runBin, tempProject } from '../helpers/cli.js'
import { startCountingServer, type CountingServer } from '../helpers/counting-server.js'
import { NATS_SERVER, startNatsServer, type NatsServer } from '../helpers/nats-server.js'
import { runPiped } from '../helpers/piped.js'

const SLOW = `import { TestCase } from 'loads-runner'
export class Slow extends TestCase {
  async test_hit() {
    await this.session.get('/slow')
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}
`

describe.skipIf(!existsSync(NATS_SERVER))('loads shell --broker drives the cluster', { timeout: 120_000 }, () => {
  let nats: NatsServer
  let target: CountingServer
  let agents: AgentProcess[]
  let env: NodeJS.ProcessEnv
  let cwd: string
  beforeAll(async () => {
    ;[nats, target] = await Promise.all([startNatsServer(), startCountingServer()])
    env = clusterEnv(nats, { LOADS_HISTORY: '' })
    agents = startAgents(2, env)
    cwd = tempProject({ 'slow.ts': SLOW })
    await waitForAgents(nats, idle(agents))
  })
  afterAll(async () => {
    await Promise.all((agents ?? []).map((a) => a.kill()))
    await Promise.all([nats?.stop(), target?.close()])
  })

  it('.agents lists them, .run --agents 2 runs the requests made on both, .runs shows the run', async () => {
    const script = ['.agents', 'get /hello', '.run -u 1 -c 2 --agents 2', '.runs', '.exit'].join('\n')
    const r = await runPiped(LOADS, ['shell', '--broker', nats.url, '--server-url', target.url], script, { cwd, env })
    expect(r.code, r.stdout + r.stderr).toBe(0)
    expect(r.stdout).toMatch(/2 agents:\n {2}AGENT +HOST +STATE +RUN +WORKERS +VERSION\n(?: {2}\S+ +\S+ +idle +- +1 +\S+\n){2}/)
    expect(r.stdout).toContain('<TestResult run=4 errors=0 failures=0>')
    expect(r.stdout).toContain('.run: exit code 0 (every run passed)')
    // One request from the shell, then 2 agents × 1 user × 2 runs.
    expect(target.count).toBe(5)
    expect(r.stdout).toMatch(/RUN +STARTED +AGENTS +STATE +TEST\n {2}\S+ +\S+ +2 +finished +/)
  })

  it('.stop RUN stops a detached run by a prefix of its id, and the agents go idle', async () => {
    const submitted = await runBin(LOADS_RUNNER, ['slow.ts', '-u', '1', '-d', '60s', '--agents', '2', '--detach', '--server-url', target.url], { cwd, env })
    expect(submitted.code, submitted.stdout + submitted.stderr).toBe(0)
    const runId = /run (\S+) submitted/.exec(submitted.stdout)?.[1]
    expect(runId).toBeDefined()
    await waitForAgents(nats, (found) => found.filter((a) => a.runId === runId).length === 2)

    const script = ['.runs', `.stop ${runId!.slice(0, 8)}`, '.exit'].join('\n')
    const r = await runPiped(LOADS, ['shell', '--broker', nats.url], script, { cwd, env })
    expect(r.code, r.stdout + r.stderr).toBe(0)
    expect(r.stdout).toMatch(new RegExp(`${runId} +\\S+ +2 +running on 2 +`))
    expect(r.stdout).toContain(`run ${runId}: stop sent to 2 agents`)
    await waitForAgents(nats, idle(agents), 15_000)
    const after = target.count
    await new Promise((resolve) => setTimeout(resolve, 500))
    expect(target.count).toBe(after)
  })

  it('says what is wrong when the broker cannot be reached, and goes on', async () => {
    const r = await runPiped(LOADS, ['shell', '--broker', 'nats://127.0.0.1:1'], ['.agents', '.stop x', '.exit'].join('\n'), { cwd, env: { ...env, LOADS_BROKER: 'nats://127.0.0.1:1' } })
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('error: cannot reach the broker at nats://127.0.0.1:1')
  })
})
