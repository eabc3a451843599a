/**
 * An agent that stops answering with its connection open (SIGSTOP: what a host at load 30 does to
 * it for seconds) is not a dead agent. It still runs, and its results reach the run's stream once
 * it thaws: the runner waits for it (up to AGENT_WAIT_MS from its last heartbeat) instead of
 * closing the run with what it had — which, before this, was 0 hits while the target counted
 * every one. Given up for good, the run reports exactly what reached it, names the agent whose
 * tail is missing and how many of its hits are counted, exits 3, and `--attach` replays the rest.
 *
 * Whatever happens to an agent, the JSON result lists it among its sources, saying why its results
 * stop short (one that sent nothing included); and one that answers again only once the run is
 * over is told as such, not as waited for.
 */
import { readFileSync } from 'node:fs'
import type { ServerResponse } from 'node:http'
import path from 'node:path'
import { Writable } from 'node:stream'
import Ajv2020 from 'ajv/dist/2020.js'
import { afterEach, describe, expect, it } from 'vitest'
import { runCli } from '../../src/cli/main.js'
import { openJetStream } from '../../src/cluster/cluster-engine.js'
import { connectBroker } from '../../src/cluster/nats-connection.js'
import { AGENT_WAIT_MS } from '../../src/cluster/protocol.js'
import { RunReader } from '../../src/cluster/run-stream.js'
import type { RunResult } from '../../src/report/result.js'
import { agentLine, clusterEnv, idle, reportedHits, spawnTimed, startAgent, waitForAgents, type AgentProcess } from '../helpers/agents.js'
import { LOADS_RUNNER, runBin, tempProject } from '../helpers/cli.js'
import { startCountingServer } from '../helpers/counting-server.js'
import { startNatsServer, type NatsServer } from '../helpers/nats-server.js'

const SITE = `import { TestCase } from 'loads-runner'
export class Site extends TestCase {
  async test_hit() {
    // An agent started with SITE_AGENT=a asks for /a: the target tells the agents' hits apart.
    const res = await this.session.get('/' + (process.env.SITE_AGENT ?? ''))
    this.assertEqual(res.status, 200)
    await new Promise((r) => setTimeout(r, 20))
  }
}
`

const cleanups: (() => Promise<unknown>)[] = []
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((c) => c().catch(() => {})))
})

const noStack = /\n\s+at |internal error/

/**
 * A broker, a target that can hold its answers, agents of one worker each (one by default; each
 * tag an agent whose users ask for /TAG), a project with the test.
 */
async function cluster(tags: string[] = ['']) {
  const held: ServerResponse[] = []
  let holding = false
  /** Called with each request's path as it arrives, before it is answered or held. */
  let onRequest: ((path: string) => void) | undefined
  const answer = (res: ServerResponse): void => {
    res.writeHead(200, { 'content-type': 'text/plain' })
    res.end('ok')
  }
  const [nats, target] = await Promise.all([startNatsServer(), startCountingServer((req, res) => {
    onRequest?.(req.url ?? '/')
    if (holding) held.push(res)
    else answer(res)
  })])
  const env = clusterEnv(nats)
  const agents = tags.map((tag) => startAgent(tag === '' ? env : { ...env, SITE_AGENT: tag }))
  cleanups.push(async () => {
    for (const agent of agents) {
      try {
        process.kill(agent.pid, 'SIGCONT')
      } catch {
        // Already gone.
      }
    }
    for (const res of held.splice(0)) answer(res)
    await Promise.all(agents.map((a) => a.kill('SIGTERM')))
    await Promise.all([nats.stop(), target.close()])
  })
  const cwd = tempProject({ 'site.ts': SITE })
  await waitForAgents(nats, idle(agents), 90_000)
  const hold = (): void => {
    holding = true
  }
  const release = (): void => {
    holding = false
    for (const res of held.splice(0)) answer(res)
  }
  const onRequests = (hook: (path: string) => void): void => {
    onRequest = hook
  }
  return { nats, target, env, agent: agents[0]!, agents, cwd, held, hold, release, onRequests }
}

/** A runner process, killed (its run folder removed) if the test ends before it does. */
function runnerProcess(...args: Parameters<typeof spawnTimed>): ReturnType<typeof spawnTimed> {
  const runner = spawnTimed(...args)
  cleanups.push(async () => {
    runner.kill('SIGKILL')
    await runner.done
  })
  return runner
}

/** Resolves once `check()` holds, polling; bounded. */
async function until(what: string, check: () => boolean, timeoutMs: number): Promise<void> {
  for (const start = Date.now(); !check(); await new Promise((r) => setTimeout(r, 20))) {
    if (Date.now() - start > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms`)
  }
}

/**
 * Once 20 requests reached the target, it stops answering: each user's next request waits there,
 * so what the agent recorded is fixed — every request the target counted but those two — and goes
 * out in its snapshots; once the broker stored them all, the agent is frozen (SIGSTOP). Returns
 * how many hits it had recorded.
 */
async function freezeOnceStored(
  nats: NatsServer,
  runId: string,
  o: { target: { count: number }; held: unknown[]; hold: () => void; agent: { pid: number } },
): Promise<number> {
  const stream = await storedHits(nats, runId)
  cleanups.push(stream.close)
  await until('20 requests', () => o.target.count >= 20, 60_000)
  o.hold()
  await until('both users waiting on the target', () => o.held.length === 2, 30_000)
  const recorded = o.target.count - 2
  await until(`the agent's snapshots of its ${recorded} hits stored`, () => stream.hits() === recorded, 30_000)
  process.kill(o.agent.pid, 'SIGSTOP')
  return recorded
}

/** Follows a run's stream as the runner does, adding up the hits of the snapshots stored so far. */
async function storedHits(nats: NatsServer, runId: string): Promise<{ hits: () => number; close: () => Promise<void> }> {
  const nc = await connectBroker({ servers: [nats.url] }, { name: 'test reader' })
  const { js, jsm } = await openJetStream(nc)
  const reader = new RunReader(js, jsm, runId)
  let hits = 0
  // The run's id is printed before its stream is made.
  for (const start = Date.now(); ; await new Promise((r) => setTimeout(r, 100))) {
    try {
      await reader.start((m) => {
        if (m.type === 'run.snapshot') for (const e of m.snapshot.endpoints) hits += e.hits
      })
      break
    } catch (err) {
      if (!/stream not found/.test((err as Error).message) || Date.now() - start > 30_000) throw err
    }
  }
  return {
    hits: () => hits,
    close: async () => {
      reader.stop()
      await nc.drain().catch(() => {})
    },
  }
}

describe('an agent frozen (SIGSTOP) with its connection open', () => {
  it('before any of its snapshots reached the runner, for 6 s: the runner waits for it, and the run reports every hit the target counted (exit 0)', async () => {
    const { target, env, agent, cwd } = await cluster()
    const runner = runnerProcess(LOADS_RUNNER, ['site.ts:Site.test_hit', '-u', '1', '-d', '8s', '--agents', '1', '--server-url', target.url, '--output', 'json:out.json'], { cwd, env, timeoutMs: 120_000 })
    // Frozen at its first request: its first snapshot (one a second) has not left it.
    await until('the first request', () => target.count > 0, 60_000)
    process.kill(agent.pid, 'SIGSTOP')
    // Thawed past SILENCE_LIMIT_MS, well within AGENT_WAIT_MS: it was silent, never gone.
    await new Promise((r) => setTimeout(r, 6000))
    process.kill(agent.pid, 'SIGCONT')
    const { code } = await runner.done
    const out = runner.stdout()
    const all = out + runner.stderr()
    const result = JSON.parse(readFileSync(path.join(cwd, 'out.json'), 'utf8')) as RunResult
    // Before: 0 hits and exit 3, the runner gone before the agent thawed.
    expect(result.summary.hits, all).toBe(target.count)
    // It ran on after it thawed: more than the request it was frozen at.
    expect(target.count).toBeGreaterThan(1)
    expect(code, all).toBe(0)
    expect(all).not.toMatch(noStack)
    expect(runner.stderr()).toMatch(/^agent \S+ silent: no heartbeat for \d+\.\d s, but still connected to the broker \(frozen or starved\); waiting for it up to 15 s/m)
    expect(runner.stderr()).toMatch(/^agent \S+ answers again after \d+\.\d s of silence; the run waits for its results$/m)
    expect(runner.stderr()).not.toMatch(/lost: no heartbeat/)
    expect(result.summary.tests).toEqual({ run: target.count, errors: 0, failures: 0 })
    expect(reportedHits(out)).toBe(target.count)
    expect(agentLine(out, `\\S+-${agent.pid}`)).toEqual({ hits: target.count, state: 'finished' })
    expect(result.sources.map((s) => ({ hits: s.hits, final: s.final }))).toEqual([{ hits: target.count, final: true }])
    expect(out).not.toContain('Missing results')
  }, 180_000)

  it(`for good: after ${AGENT_WAIT_MS / 1000} s the runner gives up with exactly the hits that reached it, names the agent whose tail is missing (exit 3); --attach replays every hit once it thaws`, async () => {
    const { nats, target, env, agent, cwd, held, hold, release } = await cluster()
    const runner = runnerProcess(LOADS_RUNNER, ['site.ts:Site.test_hit', '-u', '2', '-d', '2m', '--agents', '1', '--server-url', target.url, '--output', 'json:out.json'], { cwd, env, timeoutMs: 150_000 })
    const runId = /^run (\S+): loads ctl/.exec((await runner.waitFor(/^run \S+: loads ctl/, 60_000)).text)![1]!
    const recorded = await freezeOnceStored(nats, runId, { target, held, hold, agent })

    const { code } = await runner.done
    const out = runner.stdout()
    const all = out + runner.stderr()
    expect(all).not.toMatch(noStack)
    expect(code, all).toBe(3)
    expect(runner.stderr()).toMatch(/^agent \S+ silent: no heartbeat for \d+\.\d s, but still connected to the broker \(frozen or starved\); waiting for it up to 15 s/m)
    expect(runner.stderr()).toMatch(/^agent \S+ lost: no heartbeat for 1\d\.\d s though still connected \(frozen or starved\): gave up waiting for it; its results up to its last snapshot are kept$/m)
    // Every hit whose snapshot reached the runner, and no other.
    const result = JSON.parse(readFileSync(path.join(cwd, 'out.json'), 'utf8')) as RunResult
    expect(result.summary.hits).toBe(recorded)
    expect(reportedHits(out)).toBe(recorded)
    expect(result.exitCode).toBe(3)
    const id = `\\S+-${agent.pid}`
    expect(agentLine(out, id)?.hits).toBe(recorded)
    expect(out).toContain('Missing results: one agent did not report to the end; what it did after the last snapshot below is not in these figures:')
    expect(out).toMatch(new RegExp(`^  ${id} \\(lost: no heartbeat for 1\\d\\.\\d s\\): ${recorded} hits counted, up to its last snapshot \\(\\d\\d:\\d\\d:\\d\\d UTC, \\d+ s into the run\\); its final snapshot never came$`, 'm'))
    expect(out).toContain(`  Whatever it stored later is replayed by: loads-runner --attach ${runId}`)
    // The JSON says the same: one source, its hits, its final snapshot missing.
    expect(result.sources.map((s) => ({ hits: s.hits, final: s.final }))).toEqual([{ hits: recorded, final: false }])

    // Thawed: it hears no runner and stops; its requests are answered; what it stored is all there.
    release()
    process.kill(agent.pid, 'SIGCONT')
    await waitForAgents(nats, idle([agent]), 60_000)
    const attach = await runBin(LOADS_RUNNER, ['--attach', runId], { cwd, env, timeoutMs: 90_000 })
    expect(attach.stdout + attach.stderr).not.toMatch(noStack)
    expect(reportedHits(attach.stdout), attach.stdout + attach.stderr).toBe(target.count)
    expect(target.count).toBeGreaterThan(recorded)
  }, 240_000)
})

describe('every agent of a run is in the JSON result', () => {
  it('one killed before its first snapshot is a source of 0 hits with final false, lost and why, as the summary says (exit 3)', async () => {
    const { target, env, agents, cwd, onRequests } = await cluster(['a', 'b'])
    const [a, b] = agents as [AgentProcess, AgentProcess]
    // Killed at its first request, before the answer: it ran, but recorded no hit and sent nothing
    // (its first snapshot leaves on the next whole second).
    onRequests((path) => {
      if (path === '/b') process.kill(b.pid, 'SIGKILL')
    })
    const runner = runnerProcess(LOADS_RUNNER, ['site.ts:Site.test_hit', '-u', '1', '-d', '5s', '--agents', '2', '--server-url', target.url, '--output', 'json:out.json'], { cwd, env, timeoutMs: 120_000 })
    const { code } = await runner.done
    const out = runner.stdout()
    const all = out + runner.stderr()
    expect(all).not.toMatch(noStack)
    expect(code, all).toBe(3)
    expect((await b.exited).signal).toBe('SIGKILL')
    // b's one request, never answered, is no hit of the run; a's hits are all the run has.
    expect(target.countByPath.get('/b')).toBe(1)
    const hitsOfA = target.countByPath.get('/a')!
    expect(hitsOfA).toBe(target.count - 1)
    expect(hitsOfA).toBeGreaterThan(10)
    const idA = agentId(out, a.pid)
    const idB = agentId(out, b.pid)
    // The text, as before: b named, none of its results counted.
    const why = new RegExp(`^  ${idB} \\((lost: no heartbeat for \\d+\\.\\d s)\\): none of its results reached this runner; 0 hits counted$`, 'm').exec(out)?.[1]
    expect(why, out).toBeDefined()

    const result = JSON.parse(readFileSync(path.join(cwd, 'out.json'), 'utf8')) as RunResult
    expect(result.exitCode).toBe(3)
    expect(result.summary.hits).toBe(hitsOfA)
    expect(reportedHits(out)).toBe(hitsOfA)
    // Before: one source (a); b, which took part and sent nothing, was not in the JSON at all.
    const sources = [...result.sources].sort((x, y) => (x.source === idA ? -1 : y.source === idA ? 1 : 0))
    expect(sources.map((s) => ({ source: s.source, hits: s.hits, tests: s.tests.run, final: s.final, unfinished: s.unfinished }))).toEqual([
      { source: idA, hits: hitsOfA, tests: hitsOfA, final: true, unfinished: undefined },
      { source: idB, hits: 0, tests: 0, final: false, unfinished: { state: 'lost', reason: why } },
    ])
    expect('unfinished' in sources[0]!).toBe(false)
    expect(sources[1]).toMatchObject({ networkErrors: 0, tests: { run: 0, failures: 0, errors: 0 }, lastSeq: -1, lastSeenMs: 0, activeUsers: 0 })
    // The shipped JSON Schema knows `unfinished`.
    const schema = JSON.parse(readFileSync(path.join(import.meta.dirname, '../../schema/loads-result.schema.json'), 'utf8')) as object
    const validate = new Ajv2020({ allErrors: true }).compile(schema)
    expect(validate(result), JSON.stringify(validate.errors)).toBe(true)
  }, 180_000)
})

describe('an agent given up on that answers again as the run ends', () => {
  it('is told as it is: too late, the run is over without it and its later results are for --attach — not "the run waits" (exit 3, exactly the hits that reached the runner)', async () => {
    const { nats, target, env, agent, cwd, held, hold } = await cluster()
    // The runner in this process: its notices pass through this stream as they are made, so the
    // agent can be thawed at the very moment the runner gives it up. The runner is then held for
    // 1.5 s, with the agent's heartbeats arriving meanwhile: they are read only once every agent
    // is done — the race of an agent that comes back in the run's last moments, made certain.
    const output = { stdout: '', stderr: '' }
    let thawed = false
    const stderr = new Writable({
      write(chunk: Buffer, _enc, cb) {
        const text = chunk.toString()
        output.stderr += text
        if (!thawed && /^agent \S+ lost: /m.test(text)) {
          thawed = true
          process.kill(agent.pid, 'SIGCONT')
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1500)
        }
        cb()
      },
    })
    const stdout = new Writable({ write: (chunk: Buffer, _enc, cb) => ((output.stdout += chunk.toString()), cb()) })
    const controller = new AbortController()
    const running = runCli(
      ['run', 'site.ts:Site.test_hit', '-u', '2', '-d', '2m', '--agents', '1', '--server-url', target.url, '--output', `json:${path.join(cwd, 'out.json')}`],
      { stdout, stderr, isTTY: false, cwd, env, signal: controller.signal },
    )
    cleanups.push(async () => {
      controller.abort()
      await running
    })
    await until('the run id', () => /^run \S+: loads ctl/m.test(output.stdout), 60_000)
    const runId = /^run (\S+): loads ctl/m.exec(output.stdout)![1]!
    const recorded = await freezeOnceStored(nats, runId, { target, held, hold, agent })

    const code = await running
    const out = output.stdout
    const all = out + output.stderr
    expect(all).not.toMatch(noStack)
    expect(thawed, all).toBe(true)
    expect(code, all).toBe(3)
    const id = `\\S+-${agent.pid}`
    expect(output.stderr).toMatch(new RegExp(`^agent ${id} lost: no heartbeat for 1\\d\\.\\d s though still connected \\(frozen or starved\\): gave up waiting for it; its results up to its last snapshot are kept$`, 'm'))
    // Before: "… (it had been given up); the run waits for its results", and the runner did not wait.
    expect(output.stderr).not.toContain('the run waits for its results')
    const back = output.stderr.split('\n').filter((l) => / answers again /.test(l))
    expect(back, output.stderr).toHaveLength(1)
    expect(back[0]).toMatch(
      new RegExp(
        `^agent ${id} answers again after 1\\d\\.\\d s of silence, too late: the run had given it up and is over; ` +
          `what it did after its last snapshot counted here is not in this summary \\(loads-runner --attach ${runId} replays all it stores\\)$`,
      ),
    )
    // The summary says the same: lost (before: "running"), exactly the hits that reached the runner.
    expect(agentLine(out, id)?.hits).toBe(recorded)
    expect(agentLine(out, id)?.state).toMatch(/^lost: no heartbeat for 1\d\.\d s; its results up to its last snapshot are kept$/)
    expect(out).toMatch(new RegExp(`^  ${id} \\(lost: no heartbeat for 1\\d\\.\\d s\\): ${recorded} hits counted, up to its last snapshot \\(\\d\\d:\\d\\d:\\d\\d UTC, \\d+ s into the run\\); its final snapshot never came$`, 'm'))
    const result = JSON.parse(readFileSync(path.join(cwd, 'out.json'), 'utf8')) as RunResult
    expect(result.summary.hits).toBe(recorded)
    expect(reportedHits(out)).toBe(recorded)
    expect(result.sources.map((s) => ({ hits: s.hits, final: s.final, state: s.unfinished?.state }))).toEqual([{ hits: recorded, final: false, state: 'lost' }])
    expect(result.sources[0]!.unfinished!.reason).toMatch(/^lost: no heartbeat for 1\d\.\d s$/)
  }, 240_000)
})

/** The id of the agent of this pid, from its row in the table under the summary. */
function agentId(stdout: string, pid: number): string {
  const id = new RegExp(`^  (\\S+-${pid})\\s`, 'm').exec(stdout)?.[1]
  if (id === undefined) throw new Error(`no row for the agent of pid ${pid} in:\n${stdout}`)
  return id
}
