/**
 * A cluster run end to end: a real nats-server (JetStream, random port), five real agent
 * processes, the runner as a real process, and a counting server that says how many requests
 * truly arrived.
 */
import { execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { agentLine, clusterEnv, idle, reportedHits, startAgents, waitForAgents, type AgentProcess, SITE_TEST } from '../helpers/agents.js'
import { LOADS_RUNNER, runBin, tempProject, testResult } from '../helpers/cli.js'
import { startCountingServer, type CountingServer } from '../helpers/counting-server.js'
import { startNatsServer, type NatsServer } from '../helpers/nats-server.js'


let nats: NatsServer
let target: CountingServer
let agents: AgentProcess[]
let env: NodeJS.ProcessEnv
let cwd: string

beforeAll(async () => {
  ;[nats, target] = await Promise.all([startNatsServer(), startCountingServer()])
  env = clusterEnv(nats)
  agents = startAgents(5, env)
  cwd = tempProject({
    'site.ts': SITE_TEST,
    // A test module over 1 MB once bundled: more than nats-server's default max_payload.
    'big.ts': `import { TestCase } from 'loads-runner'\nconst PADDING = ${JSON.stringify('x'.repeat(1_500_000))}\nexport class Big extends TestCase {\n  async test_hit() {\n    const res = await this.session.get('/big')\n    this.assertEqual(res.status, 200)\n    this.assertEqual(PADDING.length, 1_500_000)\n  }\n}\n`,
  })
  await waitForAgents(nats, idle(agents))
})

afterAll(async () => {
  await Promise.all((agents ?? []).map((a) => a.kill()))
  await Promise.all([nats?.stop(), target?.close()])
})

function runner(args: string[], extra: { timeoutMs?: number; onSpawn?: (pid: number) => void; onStdout?: (s: string) => void } = {}) {
  return runBin(LOADS_RUNNER, args, { cwd, env, timeoutMs: extra.timeoutMs ?? 60_000, ...(extra.onSpawn ? { onSpawn: extra.onSpawn } : {}), ...(extra.onStdout ? { onStdout: extra.onStdout } : {}) })
}

describe('a run on five agents', () => {
  it('sends 6000 hits for -u 10:20:30 -c 20 --agents 5, as the original did, and reports exactly what the server counted', async () => {
    const before = target.count
    const r = await runner(['site.ts:Site.test_hit', '-u', '10:20:30', '-c', '20', '--agents', '5', '--server-url', target.url])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(target.count - before).toBe(6000)
    expect(reportedHits(r.stdout)).toBe(6000)
    expect(testResult(r.stdout)).toEqual({ run: 6000, errors: 0, failures: 0 })
    // One line per agent: each ran the whole plan (1200 runs).
    for (const a of agents) {
      const line = agentLine(r.stdout, `.*-${a.pid}`)
      expect(line, r.stdout).toEqual({ hits: 1200, state: 'finished' })
    }
    expect(r.stdout).toContain('Agents: 5 (5 finished)')
    // One progress line and one summary for the whole cluster.
    expect(r.stdout.match(/^Duration:/gm)).toHaveLength(1)
  })

  it('says how many agents are idle and exits 2 when there are too few', async () => {
    const r = await runner(['site.ts:Site.test_hit', '--agents', '6', '--server-url', target.url])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('--agents 6: only 5 idle agents')
    expect(r.stderr).toContain('5 connected: 5 idle')
  })

  it('ships a test bundle larger than the broker’s message size in chunks', async () => {
    const before = target.countByPath.get('/big') ?? 0
    const r = await runner(['big.ts:Big.test_hit', '-u', '2', '-c', '5', '--agents', '2', '--server-url', target.url])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect((target.countByPath.get('/big') ?? 0) - before).toBe(20)
    expect(reportedHits(r.stdout)).toBe(20)
  })
})

describe('HTTP client options on agents', () => {
  it('--max-body reaches every agent: a 9-byte body over an 8-byte limit fails each hit as BODY_TOO_LARGE', async () => {
    const before = target.countByPath.get('/') ?? 0
    const r = await runner(['site.ts:Site.test_hit', '-u', '1', '-c', '3', '--agents', '2', '--server-url', target.url, '--max-body', '8'])
    expect(r.code).toBe(1)
    expect((target.countByPath.get('/') ?? 0) - before).toBe(6)
    expect(reportedHits(r.stdout)).toBe(6)
    expect(testResult(r.stdout)).toEqual({ run: 6, errors: 6, failures: 0 })
    expect(r.stdout).toMatch(/GET +\/ +6 .* BODY_TOO_LARGE×6/)
  })
})

describe('cluster commands', () => {
  it('--ping-broker lists every agent with its host and state, and the stored runs', async () => {
    const r = await runner(['--ping-broker'])
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/JetStream on/)
    expect(r.stdout).toContain('agents: 5 (5 idle)')
    for (const a of agents) expect(r.stdout).toMatch(new RegExp(`-${a.pid}\\s+\\S+\\s+idle`))
    expect(r.stdout).toMatch(/runs: 0 active, \d+ stored/)
  })

  it('--check-cluster runs one test on every idle agent and passes each', async () => {
    const r = await runner(['--check-cluster', '--server-url', target.url])
    expect(r.code).toBe(0)
    expect(r.stdout.match(/^ {2}PASS /gm)).toHaveLength(5)
    expect(r.stdout).toContain('5 passed, 0 failed')
  })

  it('--detach returns with a run id; --attach follows that run to its summary', async () => {
    const before = target.count
    const d = await runner(['site.ts:Site.test_hit', '-u', '2', '-c', '150', '--agents', '2', '--server-url', target.url, '--detach'])
    expect(d.code).toBe(0)
    const runId = /^run (\S+) submitted to 2 agents/m.exec(d.stdout)?.[1]
    expect(runId, d.stdout).toBeDefined()
    expect(d.stdout).toContain(`loads-runner --attach ${runId}`)

    const a = await runner(['--attach', runId!.slice(0, 8)])
    expect(a.stderr).toBe('')
    expect(a.code).toBe(0)
    expect(a.stdout).toContain(`attached to run ${runId}`)
    expect(testResult(a.stdout)).toEqual({ run: 600, errors: 0, failures: 0 })
    expect(reportedHits(a.stdout)).toBe(600)
    expect(target.count - before).toBe(600)
    // A finished run replays the same: nothing lost, nothing counted twice.
    const again = await runner(['--attach', runId!])
    expect(reportedHits(again.stdout)).toBe(600)
  })

  it('--purge-broker stops every run; the stopped run keeps its results', async () => {
    const d = await runner(['site.ts:Site.test_hit', '-u', '2', '-d', '30s', '--agents', '2', '--server-url', target.url, '--detach'])
    const runId = /^run (\S+) submitted/m.exec(d.stdout)?.[1]
    expect(runId, d.stdout + d.stderr).toBeDefined()
    await new Promise((r) => setTimeout(r, 1500))
    const p = await runner(['--purge-broker'])
    expect(p.code).toBe(0)
    expect(p.stdout).toContain(`stopped run ${runId} on 2 agents`)
    await waitForAgents(nats, idle(agents), 10_000)
    const a = await runner(['--attach', runId!])
    expect(a.code).toBe(130)
    expect(a.stdout).toContain('Agents: 2 (2 purged)')
    expect(reportedHits(a.stdout)).toBeGreaterThan(0)
  })

  it('a run purged under its runner is interrupted: the runner exits 130 as --attach does, its hits what the server counted', async () => {
    const before = target.count
    let purged = false
    // Long enough that the purge (a process of its own, slow to start on a busy machine) comes first.
    const r = await runner(['site.ts:Site.test_hit', '-u', '2', '-d', '120s', '--agents', '2', '--server-url', target.url], {
      timeoutMs: 180_000,
      onStdout: () => {
        if (purged || target.count - before < 50) return
        purged = true
        void runner(['--purge-broker'])
      },
    })
    expect(purged).toBe(true)
    expect(r.code, r.stderr).toBe(130)
    expect(r.stdout).toContain('(2 purged)')
    expect(reportedHits(r.stdout)).toBe(target.count - before)
    await waitForAgents(nats, idle(agents), 10_000)
  }, 200_000)

  it('Ctrl-C on a terminal asks: stop or detach; detached, the run goes on and --attach follows it to the end', async () => {
    const socket = `loads-test-${process.pid}`
    const tmux = (...args: string[]) => execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' })
    const screen = () => tmux('capture-pane', '-p', '-J', '-S', '-200', '-t', 'run')
    // A loaded machine takes more than 15 s to start a cluster run: wait by the clock, not by polls.
    const until = async (re: RegExp, what: string) => {
      for (const deadline = Date.now() + 40_000; Date.now() < deadline; ) {
        if (re.test(screen())) return
        await new Promise((r) => setTimeout(r, 100))
      }
      throw new Error(`${what} never showed:\n${screen()}`)
    }
    const script = path.join(cwd, 'tty-run.sh')
    const vars = Object.entries(env).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(' ')
    // The shell catches Ctrl-C (a handler, not an ignore: the runner gets the default back) to say how it ended.
    writeFileSync(script, `trap 'true' INT; cd ${JSON.stringify(cwd)} && env ${vars} ${JSON.stringify(process.execPath)} ${JSON.stringify(LOADS_RUNNER)} site.ts:Site.test_hit -u 2 -d 15s --agents 2 --server-url ${target.url}; echo EXIT=$?; sleep 60\n`)
    const before = target.count
    tmux('new-session', '-d', '-s', 'run', '-x', '160', '-y', '50')
    tmux('send-keys', '-t', 'run', `sh ${script}`, 'Enter')
    try {
      await until(/hits\/s/, 'the progress line')
      tmux('send-keys', '-t', 'run', 'C-c')
      await until(/\[s\]top the run .* or \[d\]etach/, 'the question')
      tmux('send-keys', '-t', 'run', 'd', 'Enter')
      await until(/EXIT=0/, 'the exit')
      const runId = /detached: run (\S+) goes on/.exec(screen())?.[1]
      expect(runId, screen()).toBeDefined()
      const a = await runner(['--attach', runId!])
      expect(a.code).toBe(0)
      expect(a.stdout).toContain('Agents: 2 (2 finished)')
      expect(reportedHits(a.stdout)).toBe(target.count - before)
    } finally {
      try {
        tmux('kill-server')
      } catch {
        // Already gone with its last session.
      }
    }
  }, 150_000)

  it('Ctrl-C (not on a terminal) stops the cluster run: the summary follows, the agents are idle again', async () => {
    let pid = 0
    let signalled = false
    const r = await runner(['site.ts:Site.test_hit', '-u', '4', '-d', '30s', '--agents', '2', '--server-url', target.url], {
      onSpawn: (p) => (pid = p),
      onStdout: (out) => {
        if (!signalled && /progress: \d+%/.test(out)) {
          signalled = true
          process.kill(pid, 'SIGINT')
        }
      },
    })
    expect(r.code).toBe(130)
    expect(r.stdout).toContain('Agents: 2 (2 stopped)')
    expect(reportedHits(r.stdout)).toBeGreaterThan(0)
    await waitForAgents(nats, idle(agents), 10_000)
  })
})
