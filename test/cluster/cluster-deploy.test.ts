/**
 * The broker set up as the README's "Deploying the cluster on several hosts" says: TLS, and the
 * shipped permissions (deploy/nats/loads-permissions.conf) where only runners may send runs.
 */
import os from 'node:os'
import path from 'node:path'
import { writeFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connectBroker } from '../../src/cluster/nats-connection.js'
import { encode, subjects } from '../../src/cluster/protocol.js'
import { idle, reportedHits, startAgent, waitForAgents, type AgentProcess } from '../helpers/agents.js'
import { LOADS_RUNNER, ROOT, runBin, tempProject } from '../helpers/cli.js'
import { startCountingServer, type CountingServer } from '../helpers/counting-server.js'
import { makeSelfSignedCert } from '../helpers/http-servers.js'
import { startNatsServer, type NatsServer } from '../helpers/nats-server.js'

const PASSWORDS = { LOADS_RUNNER_PASSWORD: 'runner-secret', LOADS_AGENT_PASSWORD: 'agent-secret' }
let nats: NatsServer
let target: CountingServer
let agent: AgentProcess
let cwd: string
let caFile: string

beforeAll(async () => {
  const tls = makeSelfSignedCert()
  cwd = tempProject({ 'site.ts': `import { TestCase } from 'loads-runner'\nexport class Site extends TestCase {\n  async test_hit() {\n    await this.session.get('/')\n  }\n}\n` })
  caFile = path.join(cwd, 'ca.pem')
  writeFileSync(caFile, tls.cert)
  ;[nats, target] = await Promise.all([
    startNatsServer({ tls, include: path.join(ROOT, 'deploy', 'nats', 'loads-permissions.conf'), env: PASSWORDS }),
    startCountingServer(),
  ])
})

afterAll(async () => {
  await agent?.kill()
  await Promise.all([nats?.stop(), target?.close()])
})

const as = (user: 'runner' | 'agent', extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
  LOADS_CLUSTER_DIR: '/nonexistent',
  LOADS_BROKER: nats.url,
  LOADS_BROKER_USER: user,
  LOADS_BROKER_PASSWORD: user === 'runner' ? PASSWORDS.LOADS_RUNNER_PASSWORD : PASSWORDS.LOADS_AGENT_PASSWORD,
  LOADS_BROKER_TLS_CA: caFile,
  ...extra,
})

describe('a broker with TLS and the shipped permissions', () => {
  it('runs a test: the runner and the agent each with their own user, over TLS', async () => {
    // A retry stops the failed attempt's agent first: afterAll kills only the last one started.
    await agent?.kill()
    agent = startAgent(as('agent'))
    await waitForAgents({ url: nats.url, env: as('runner') }, idle([agent])).catch((err: Error) => {
      throw new Error(`${err.message}\nagent log:\n${agent.log()}`)
    })
    const r = await runBin(LOADS_RUNNER, ['site.ts:Site.test_hit', '-u', '2', '-c', '10', '--agents', '1', '--server-url', target.url], { cwd, env: as('runner') })
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(reportedHits(r.stdout)).toBe(20)
    expect(target.count).toBe(20)
  })

  it('will not let an agent’s credentials send a run to an agent', async () => {
    const nc = await connectBroker(
      { servers: [nats.url], user: 'agent', password: PASSWORDS.LOADS_AGENT_PASSWORD, tlsCaFile: caFile },
      { name: 'intruder' },
    )
    try {
      // A well-formed request (of another version, so the agent would say no and log it).
      const agentId = `${os.hostname().replace(/[^A-Za-z0-9_-]/g, '_')}-${agent.pid}`
      const request = { type: 'run.request', runId: 'x', agentId, version: '0.0.0', address: 'x', config: {}, plan: { steps: [] }, workers: null, supervised: false, bundle: { hash: '', size: 0, entry: '', chunks: 0 } }
      const attempt = nc.request(subjects.runRequest(agentId), encode(request), { timeout: 2000 })
      await expect(attempt).rejects.toThrow(/permission/i)
    } finally {
      await nc.close()
    }
    expect(agent.log()).not.toContain('refused run')
  })

  it('refuses a runner that does not trust the broker’s certificate', async () => {
    const r = await runBin(LOADS_RUNNER, ['--ping-broker'], { cwd, env: as('runner', { LOADS_BROKER_TLS_CA: '' }) })
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/cannot reach the broker|certificate/i)
  })
})
