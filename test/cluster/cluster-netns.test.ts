/**
 * Several hosts, as near as one machine gets: the broker (with the runner and the target) in one
 * network namespace, two agents in two others, joined by veth pairs. The agents reach the broker
 * at a non-loopback 10.x address — only with its password, as the door policy wants. Needs root
 * (`ip netns add`); where that fails the test says why and is skipped.
 */
import { execFileSync, spawn } from 'node:child_process'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { reportedHits, startAgent, type AgentProcess } from '../helpers/agents.js'
import { LOADS_RUNNER, ROOT, tempProject } from '../helpers/cli.js'
import { startNatsServer, type NatsServer } from '../helpers/nats-server.js'

const tag = String(process.pid % 100000)
const NS = { broker: `loads-b-${tag}`, a1: `loads-a1-${tag}`, a2: `loads-a2-${tag}` }
/** Addresses that exist only inside the namespaces this test creates. */
const NET = { b1: '10.213.1.1', a1: '10.213.1.2', b2: '10.213.2.1', a2: '10.213.2.2' }
const created: string[] = []

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] })
}

/** Creates the namespaces and links, or returns why it cannot. */
function setUpNetwork(): string | undefined {
  try {
    ip('netns', 'add', NS.broker)
    created.push(NS.broker)
  } catch (err) {
    return `ip netns add failed (${String((err as { stderr?: Buffer }).stderr ?? (err as Error).message).trim()}): needs root and iproute2`
  }
  try {
    for (const [n, agentNs, bAddr, aAddr] of [
      ['1', NS.a1, NET.b1, NET.a1],
      ['2', NS.a2, NET.b2, NET.a2],
    ] as const) {
      ip('netns', 'add', agentNs)
      created.push(agentNs)
      const [vb, va] = [`lvb${n}-${tag}`, `lva${n}-${tag}`]
      ip('link', 'add', vb, 'type', 'veth', 'peer', 'name', va)
      ip('link', 'set', vb, 'netns', NS.broker)
      ip('link', 'set', va, 'netns', agentNs)
      ip('-n', NS.broker, 'addr', 'add', `${bAddr}/24`, 'dev', vb)
      ip('-n', NS.broker, 'link', 'set', vb, 'up')
      ip('-n', agentNs, 'addr', 'add', `${aAddr}/24`, 'dev', va)
      ip('-n', agentNs, 'link', 'set', va, 'up')
      ip('-n', agentNs, 'link', 'set', 'lo', 'up')
      // Every address of the broker's namespace is one hop away.
      ip('-n', agentNs, 'route', 'add', 'default', 'via', bAddr)
    }
    ip('-n', NS.broker, 'link', 'set', 'lo', 'up')
    return undefined
  } catch (err) {
    return `could not set up the namespaces: ${String((err as { stderr?: Buffer }).stderr ?? (err as Error).message).trim()}`
  }
}

function tearDownNetwork(): void {
  for (const ns of created.splice(0)) {
    try {
      ip('netns', 'del', ns)
    } catch {
      // Already gone.
    }
  }
}

const skipReason = setUpNetwork()
if (skipReason) {
  tearDownNetwork()
  console.log(`cluster across network namespaces: skipped: ${skipReason}`)
}

/** Runs a Loads binary inside a namespace; bounded. */
function inNamespace(ns: string, bin: string, args: string[], env: NodeJS.ProcessEnv, cwd: string, timeoutMs = 60_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, bin, ...args], { cwd, env: { ...process.env, ...env, FORCE_COLOR: '0' } })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })
}

/** A counting HTTP target inside the broker's namespace; it prints its count when told to stop. */
function startTarget(): Promise<{ port: number; stop(): Promise<number> }> {
  const script = `const http = require('node:http'); let n = 0
const s = http.createServer((q, r) => { q.resume(); q.on('end', () => { n++; r.end('Search OK') }) })
s.listen(0, '0.0.0.0', () => console.log('port ' + s.address().port))
process.on('SIGTERM', () => { console.log('count ' + n); process.exit(0) })`
  const child = spawn('ip', ['netns', 'exec', NS.broker, process.execPath, '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] })
  let out = ''
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the target did not start')), 10_000)
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString()
      const port = /port (\d+)/.exec(out)?.[1]
      if (port && timer) {
        clearTimeout(timer)
        resolve({
          port: Number(port),
          stop: () =>
            new Promise((done) => {
              child.once('close', () => done(Number(/count (\d+)/.exec(out)?.[1] ?? -1)))
              child.kill('SIGTERM')
            }),
        })
      }
    })
  })
}

describe.skipIf(skipReason !== undefined)('a cluster across network namespaces', () => {
  let nats: NatsServer
  let agents: AgentProcess[] = []
  const creds = { LOADS_BROKER_USER: 'loads', LOADS_BROKER_PASSWORD: 'netns-secret', LOADS_CLUSTER_DIR: '/nonexistent' }

  beforeAll(async () => {
    nats = await startNatsServer({ host: '0.0.0.0', port: 4222, user: 'loads', password: creds.LOADS_BROKER_PASSWORD, netns: NS.broker })
  })

  afterAll(async () => {
    await Promise.all(agents.map((a) => a.kill('SIGKILL')))
    await nats?.stop()
    tearDownNetwork()
  })

  it('runs a test on two agents that reach the broker over 10.x links, with its password', async () => {
    // A retry follows an attempt whose two agents still answer the broker's ping: four would
    // answer, never "2 (2 idle)". Stop them first (a no-op on the first attempt).
    await Promise.all(agents.splice(0).map((a) => a.kill()))
    const cwd = tempProject({
      'site.ts': `import { TestCase } from 'loads-runner'\nexport class Site extends TestCase {\n  async test_hit() {\n    const res = await this.session.get('/')\n    this.assertTrue(res.text.includes('Search'))\n  }\n}\n`,
    })
    // Without credentials, the agent will not talk to a broker others can reach.
    const refused = await inNamespace(NS.a1, path.join(ROOT, 'bin', 'loads-agent.js'), ['--broker', `nats://${NET.b1}:4222`], { LOADS_CLUSTER_DIR: '/nonexistent' }, cwd, 15_000)
    expect(refused.code).toBe(2)
    expect(refused.stderr).toContain('without authentication or TLS')

    agents = [
      startAgent({ ...creds, LOADS_BROKER: `nats://${NET.b1}:4222` }, [], NS.a1),
      startAgent({ ...creds, LOADS_BROKER: `nats://${NET.b2}:4222` }, [], NS.a2),
    ]
    const runnerEnv = { ...creds, LOADS_BROKER: 'nats://127.0.0.1:4222' }
    let ping = { code: null as number | null, stdout: '', stderr: '' }
    for (let i = 0; i < 40 && !ping.stdout.includes('agents: 2 (2 idle)'); i++) {
      ping = await inNamespace(NS.broker, LOADS_RUNNER, ['--ping-broker'], runnerEnv, cwd)
    }
    expect(ping.stdout, ping.stdout + ping.stderr + agents.map((a) => a.log()).join('\n')).toContain('agents: 2 (2 idle)')

    const target = await startTarget()
    const r = await inNamespace(NS.broker, LOADS_RUNNER, ['site.ts:Site.test_hit', '-u', '5', '-c', '20', '--agents', '2', '--server-url', `http://${NET.b1}:${target.port}`], runnerEnv, cwd)
    const count = await target.stop()
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(count).toBe(200)
    expect(reportedHits(r.stdout)).toBe(200)
    for (const a of agents) expect(r.stdout).toMatch(new RegExp(`^ {2}\\S+-${a.pid}\\s+100\\s+0\\s+0\\s+finished$`, 'm'))
  })
})
