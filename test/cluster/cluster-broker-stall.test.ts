/**
 * A broker that stops answering with its sockets open (SIGSTOP): the runner says it is the
 * broker, not the agents, and waits for it — the run goes on when it answers again, or, past
 * `--broker-wait`, the runner gives up with what it has and names `--attach RUN`, which later
 * replays every hit the target received. Also: `--stream-replicas 2` on a single broker.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { clusterEnv, idle, reportedHits, spawnTimed, startAgents, waitForAgents } from '../helpers/agents.js'
import { LOADS_RUNNER, runBin, tempProject } from '../helpers/cli.js'
import { startCountingServer } from '../helpers/counting-server.js'
import { startNatsServer } from '../helpers/nats-server.js'

const SITE = `import { TestCase } from 'loads-runner'
export class Site extends TestCase {
  async test_hit() {
    await this.session.get('/')
    await new Promise((r) => setTimeout(r, 50))
  }
}
`

const cleanups: (() => Promise<unknown>)[] = []
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((c) => c().catch(() => {})))
})

async function cluster(n: number) {
  const [nats, target] = await Promise.all([startNatsServer(), startCountingServer()])
  const env = clusterEnv(nats)
  const agents = startAgents(n, env)
  cleanups.push(async () => {
    try {
      process.kill(nats.pid, 'SIGCONT')
    } catch {
      // Already gone.
    }
    await Promise.all(agents.map((a) => a.kill('SIGTERM')))
    await Promise.all([nats.stop(), target.close()])
  })
  const cwd = tempProject({ 'site.ts': SITE })
  await waitForAgents(nats, idle(agents), 90_000)
  return { nats, target, env, agents, cwd }
}

const noStack = /\n\s+at |internal error/

describe('a broker frozen mid-run (SIGSTOP)', () => {
  it('is reported as the broker, agents are not counted lost, and the run completes once it answers again: every hit reported', async () => {
    const { nats, target, env, cwd } = await cluster(2)
    const runner = spawnTimed(LOADS_RUNNER, ['site.ts:Site.test_hit', '-u', '2', '-d', '16s', '--agents', '2', '--server-url', target.url], { cwd, env, timeoutMs: 150_000 })
    await runner.waitFor(/^progress: \d+%/, 60_000)
    process.kill(nats.pid, 'SIGSTOP')
    await runner.waitFor(/the broker at \S+ has not answered for \d+ s \(frozen or stalled: its socket is open\); waiting for it up to 60 s/, 20_000)
    await new Promise((r) => setTimeout(r, 3000))
    process.kill(nats.pid, 'SIGCONT')
    await runner.waitFor(/the broker at \S+ answers again; the run goes on/, 30_000)
    const { code } = await runner.done
    const all = runner.stdout() + runner.stderr()
    expect(runner.stderr()).not.toMatch(/lost: no heartbeat|lost the broker/)
    expect(all).not.toMatch(noStack)
    expect(code, all).toBe(0)
    expect(reportedHits(runner.stdout())).toBe(target.count)
  }, 200_000)

  it('past --broker-wait the runner gives up with the hits so far (exit 3) and names --attach RUN, which replays every hit once the broker is back', async () => {
    const { nats, target, env, cwd, agents } = await cluster(2)
    const runner = spawnTimed(LOADS_RUNNER, ['site.ts:Site.test_hit', '-u', '2', '-d', '40s', '--agents', '2', '--broker-wait', '8s', '--server-url', target.url], { cwd, env, timeoutMs: 150_000 })
    await runner.waitFor(/^progress: \d+%/, 60_000)
    process.kill(nats.pid, 'SIGSTOP')
    const frozenAt = Date.now()
    const { code } = await runner.done
    const gaveUpAfterMs = Date.now() - frozenAt
    const out = runner.stdout()
    const all = out + runner.stderr()
    expect(code, all).toBe(3)
    expect(all).not.toMatch(noStack)
    expect(runner.stderr()).toMatch(/gave up on the broker at \S+ after \d+ s without an answer/)
    expect(runner.stderr()).not.toMatch(/lost: no heartbeat/)
    // Bounded: the wait, its probe's 2.5 s, and closing (each step bounded by 5 s) on a loaded machine.
    expect(gaveUpAfterMs).toBeLessThan(40_000)
    const runId = /Once it is back: loads-runner --attach (\S+)/.exec(out)?.[1]
    expect(runId, out).toBeDefined()

    // Thawed: the agents hear no runner and stop; what they stored is all there.
    process.kill(nats.pid, 'SIGCONT')
    await waitForAgents(nats, idle(agents), 60_000)
    const countAfter = target.count
    const attach = await runBin(LOADS_RUNNER, ['--attach', runId!], { cwd, env, timeoutMs: 90_000 })
    expect(attach.stdout + attach.stderr).not.toMatch(noStack)
    expect(reportedHits(attach.stdout), attach.stdout + attach.stderr).toBe(countAfter)
    expect(target.count).toBe(countAfter)
    expect(reportedHits(out)!).toBeLessThanOrEqual(countAfter)
  }, 240_000)
})

describe('--stream-replicas on a single broker', () => {
  it('is refused with exit 2 naming the need for a NATS cluster, no stack trace, no load sent', async () => {
    const { target, env, cwd } = await cluster(1)
    const r = await runBin(LOADS_RUNNER, ['site.ts:Site.test_hit', '-u', '1', '-c', '5', '--agents', '1', '--stream-replicas', '2', '--server-url', target.url], { cwd, env, timeoutMs: 90_000 })
    expect(r.code, r.stdout + r.stderr).toBe(2)
    expect(r.stderr).toMatch(/error: the broker cannot keep 2 copies of the run's results: /)
    expect(r.stderr).toContain('hint: --stream-replicas 2 needs a NATS cluster of at least 2 JetStream servers')
    expect(r.stderr).not.toMatch(noStack)
    expect(target.count).toBe(0)
  }, 150_000)
})
