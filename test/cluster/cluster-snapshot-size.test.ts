/**
 * A snapshot bigger than the broker takes (max_payload): thousands of URL names in a second. It
 * used to block the agent's outbox for two minutes and then go, with everything queued behind it:
 * the runner reported 0 hits of 2000 the target counted. The agent now sends it in parts.
 */
import Ajv2020 from 'ajv/dist/2020.js'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openJetStream } from '../../src/cluster/cluster-engine.js'
import { connectBroker } from '../../src/cluster/nats-connection.js'
import { Outbox } from '../../src/cluster/outbox.js'
import { streamName, subjects } from '../../src/cluster/protocol.js'
import { createRunStream } from '../../src/cluster/run-stream.js'
import type { RunResult } from '../../src/report/result.js'
import { agentLine, clusterEnv, idle, reportedHits, startAgent, waitForAgents, type AgentProcess } from '../helpers/agents.js'
import { LOADS_RUNNER, runBin, tempProject, testResult } from '../helpers/cli.js'
import { startCountingServer, type CountingServer } from '../helpers/counting-server.js'
import { startNatsServer, type NatsServer } from '../helpers/nats-server.js'

// Each run a URL name of its own: 2000 names, some 430 bytes each in a snapshot.
const NAMES = `import { TestCase } from 'loads-runner'
let i = 0
export class Names extends TestCase {
  async test_hit() {
    const res = await this.session.get('/p/' + i++)
    this.assertEqual(res.status, 200)
  }
}
`

// Each run hits two endpoints: /ok, and /big under a stats name of 20,000 characters — an
// endpoint bigger than the broker's 16 KB alone, in every second's snapshot.
const BIG_NAME = `import { TestCase } from 'loads-runner'
const name = 'x'.repeat(20000)
export class Big extends TestCase {
  async test_two() {
    const ok = await this.session.get('/ok')
    this.assertEqual(ok.status, 200)
    const big = await this.session.get('/big', { name })
    this.assertEqual(big.status, 200)
  }
}
`

// Each run ends in an error of its own: up to 100 distinct groups a second, each with a long
// message and a stack — far more than the broker's 16 KB in one snapshot.
const ERRORS = `import { TestCase } from 'loads-runner'
let i = 0
export class Errs extends TestCase {
  async test_err() {
    const res = await this.session.get('/e')
    throw new Error('bad ' + i++ + ' ' + 'y'.repeat(400) + res.status)
  }
}
`

// Each run a check, a counter and a group of its own, each name some 110 bytes: 300 runs make a
// first part (the figures beside the endpoints) of tens of kB, over the broker's 16 KB.
const NAMED = `import { TestCase } from 'loads-runner'
let i = 0
export class Named extends TestCase {
  async test_named() {
    const n = i++
    const res = await this.group('block ' + n + ' ' + 'g'.repeat(100), () => this.session.get('/n'))
    this.check('order ' + n + ' ' + 'q'.repeat(100), res.status === 200)
    this.incrCounter('sold ' + n + ' ' + 'r'.repeat(100), 2)
  }
}
`

// Each run two checks: 'ok', and one whose name is 20,000 characters — bigger than the broker's
// 16 KB alone, in every second's snapshot.
const BIG_CHECK = `import { TestCase } from 'loads-runner'
const name = 'x'.repeat(20000)
export class BigCheck extends TestCase {
  async test_checks() {
    const res = await this.session.get('/b')
    this.check('ok', res.status === 200)
    this.check(name, true)
  }
}
`

let nats: NatsServer
let target: CountingServer
let agent: AgentProcess
let env: NodeJS.ProcessEnv
let cwd: string

beforeAll(async () => {
  // 16 KB: a second's snapshot of a few dozen names is already more.
  ;[nats, target] = await Promise.all([startNatsServer({ maxPayload: '16KB' }), startCountingServer()])
  env = clusterEnv(nats)
  agent = startAgent(env)
  cwd = tempProject({ 'names.ts': NAMES, 'big.ts': BIG_NAME, 'errs.ts': ERRORS, 'named.ts': NAMED, 'big-check.ts': BIG_CHECK })
  await waitForAgents(nats, idle([agent]), 90_000)
})

afterAll(async () => {
  await agent?.kill()
  await Promise.all([nats?.stop(), target?.close()])
})

describe('a snapshot over the broker’s max_payload', () => {
  it('goes in parts: 2000 URL names in seconds, every hit the target counted reported, the agent finished (exit 0)', async () => {
    const before = target.count
    const r = await runBin(LOADS_RUNNER, ['names.ts:Names.test_hit', '-u', '1', '-c', '2000', '--agents', '1', '--server-url', target.url, '--output', 'json:out.json'], { cwd, env, timeoutMs: 90_000 })
    const all = r.stdout + r.stderr
    expect(target.count - before).toBe(2000)
    expect(reportedHits(r.stdout), all).toBe(2000)
    expect(r.code, all).toBe(0)
    expect(testResult(r.stdout)).toEqual({ run: 2000, errors: 0, failures: 0 })
    expect(agentLine(r.stdout, `\\S+-${agent.pid}`)).toEqual({ hits: 2000, state: 'finished' })
    const result = JSON.parse(readFileSync(path.join(cwd, 'out.json'), 'utf8')) as RunResult
    expect(result.summary.hits).toBe(2000)
    // The summary keeps 1000 names and folds the rest into one line; the hits are all there.
    expect(result.summary.endpoints.reduce((n, e) => n + e.hits, 0)).toBe(2000)
    expect(result.sources.map((s) => ({ hits: s.hits, final: s.final }))).toEqual([{ hits: 2000, final: true }])
    expect(agent.log()).toMatch(/a snapshot of \d+ URL names is over the broker's max_payload \(16384 bytes\): sent in \d+ parts/)
    expect(agent.log()).not.toMatch(/dropped/)
  }, 120_000)

  it('one endpoint too big even alone: not sent, the rest delivered at once, the run partial with exactly the hits not delivered (exit 3, in seconds)', async () => {
    const before = target.count
    const startedMs = Date.now()
    const r = await runBin(LOADS_RUNNER, ['big.ts:Big.test_two', '-u', '1', '-c', '300', '--agents', '1', '--server-url', target.url, '--output', 'json:big.json'], { cwd, env, timeoutMs: 90_000 })
    const elapsedMs = Date.now() - startedMs
    const all = r.stdout + r.stderr
    expect(target.count - before).toBe(600)
    // Every /ok hit and every test run reached the runner; the 300 hits of /big did not, and it says so.
    expect(reportedHits(r.stdout), all).toBe(300)
    expect(testResult(r.stdout)).toEqual({ run: 300, errors: 0, failures: 0 })
    expect(agentLine(r.stdout, `\\S+-${agent.pid}`)).toEqual({ hits: 300, state: 'finished' })
    expect(r.stdout).toMatch(new RegExp(`Undelivered results: one agent counted hits that never reached this runner \\(not in these figures\\):\\n  \\S+-${agent.pid}: 300 hits and 0 test runs in \\d+ snapshot parts? the broker could not take`))
    expect(r.code, all).toBe(3)
    const result = JSON.parse(readFileSync(path.join(cwd, 'big.json'), 'utf8')) as RunResult
    expect(result.summary.hits).toBe(300)
    expect(result.exitCode).toBe(3)
    expect(result.summary.endpoints.map((e) => [e.name, e.hits])).toEqual([['/ok', 300]])
    // Its final snapshot arrived (emptied parts keep the seqs and the final flag): nothing else is missing.
    // What did not arrive is in the JSON too, by agent.
    expect(result.sources.map((s) => ({ hits: s.hits, final: s.final, undelivered: { hits: s.undelivered?.hits, testsRun: s.undelivered?.testsRun } }))).toEqual([
      { hits: 300, final: true, undelivered: { hits: 300, testsRun: 0 } },
    ])
    expect(result.sources[0]!.undelivered!.messages).toBeGreaterThan(0)
    expect(r.stdout).not.toMatch(/Missing results/)
    expect(agent.log()).toMatch(/a snapshot part of \d+ bytes \(the endpoint GET x{60}…\) is over the broker's max_payload \(16384 bytes\) even alone: not delivered, with \d+ hits and 0 test runs/)
    expect(agent.log()).not.toMatch(/could not store anything/)
    // Nothing waited for the old 120 s: the run of 300 local requests is over in seconds (60 s: a loaded 2-core host).
    expect(elapsedMs).toBeLessThan(60_000)
    // --attach reads the same stored story: the same hits, the same undelivered line, exit 3.
    const runId = /^run (\S+): loads ctl/m.exec(all)?.[1]
    expect(runId, all).toBeDefined()
    const attach = await runBin(LOADS_RUNNER, ['--attach', runId!, '--output', 'json:big-attach.json'], { cwd, env, timeoutMs: 60_000 })
    expect(reportedHits(attach.stdout), attach.stdout + attach.stderr).toBe(300)
    expect(attach.stdout).toMatch(new RegExp(`  \\S+-${agent.pid}: 300 hits and 0 test runs in \\d+ snapshot parts? the broker could not take`))
    expect(attach.code).toBe(3)
    const attached = JSON.parse(readFileSync(path.join(cwd, 'big-attach.json'), 'utf8')) as RunResult
    expect(attached.sources.map((s) => s.undelivered)).toEqual(result.sources.map((s) => s.undelivered))
  }, 120_000)

  it('error groups too big for it: the rarest folded into (other errors), every count delivered (exit 1 for the errors, not partial)', async () => {
    const before = target.count
    const startedMs = Date.now()
    const r = await runBin(LOADS_RUNNER, ['errs.ts:Errs.test_err', '-u', '1', '-c', '300', '--agents', '1', '--server-url', target.url, '--output', 'json:errs.json'], { cwd, env, timeoutMs: 90_000 })
    const elapsedMs = Date.now() - startedMs
    const all = r.stdout + r.stderr
    expect(target.count - before).toBe(300)
    expect(reportedHits(r.stdout), all).toBe(300)
    expect(testResult(r.stdout)).toEqual({ run: 300, errors: 300, failures: 0 })
    expect(agentLine(r.stdout, `\\S+-${agent.pid}`)).toEqual({ hits: 300, state: 'finished' })
    expect(r.stdout).not.toMatch(/Undelivered results|Missing results/)
    expect(r.code, all).toBe(1)
    const result = JSON.parse(readFileSync(path.join(cwd, 'errs.json'), 'utf8')) as RunResult
    expect(result.summary.tests).toEqual({ run: 300, errors: 300, failures: 0 })
    expect(result.sources.map((s) => ({ hits: s.hits, final: s.final, undelivered: s.undelivered }))).toEqual([{ hits: 300, final: true, undelivered: undefined }])
    expect(result.summary.errors.reduce((n, g) => n + g.count, 0)).toBe(300)
    const other = result.summary.errors.find((g) => g.message === '(other errors)')
    expect(other?.kind).toBe('Error')
    // Some kept whole, with their message; fewer than the 100 a snapshot holds.
    const whole = result.summary.errors.filter((g) => g.message.startsWith('bad ')).length
    expect(whole).toBeGreaterThan(0)
    expect(whole).toBeLessThan(100)
    expect(agent.log()).toMatch(/a snapshot's \d+ error groups are over the broker's max_payload \(16384 bytes\): \d+ kept whole, the rest counted as \(other errors\)/)
    expect(elapsedMs).toBeLessThan(60_000)
  }, 120_000)

  it('checks, counters and groups too many for the first part: spread over parts of their own, every count delivered (exit 0)', async () => {
    const before = target.count
    const r = await runBin(LOADS_RUNNER, ['named.ts:Named.test_named', '-u', '1', '-c', '300', '--agents', '1', '--server-url', target.url, '--output', 'json:named.json'], { cwd, env, timeoutMs: 90_000 })
    const all = r.stdout + r.stderr
    expect(target.count - before).toBe(300)
    expect(reportedHits(r.stdout), all).toBe(300)
    expect(testResult(r.stdout)).toEqual({ run: 300, errors: 0, failures: 0 })
    // The first part used to go emptied: its test runs said undelivered (exit 3), its checks,
    // counters and groups lost without a count.
    expect(r.stdout).not.toMatch(/Undelivered results|Missing results/)
    expect(r.code, all).toBe(0)
    const result = JSON.parse(readFileSync(path.join(cwd, 'named.json'), 'utf8')) as RunResult
    const s = result.summary
    expect(s.checks?.length).toBe(300)
    expect(s.checks?.reduce((n, c) => n + c.passes, 0)).toBe(300)
    expect(s.checks?.reduce((n, c) => n + c.failures, 0)).toBe(0)
    expect(Object.keys(s.counters)).toHaveLength(300)
    expect(Object.values(s.counters).reduce((n, v) => n + v, 0)).toBe(600)
    expect(s.groups?.length).toBe(300)
    expect(s.groups?.reduce((n, g) => n + g.runs, 0)).toBe(300)
    expect(result.sources.map((x) => ({ hits: x.hits, final: x.final, undelivered: x.undelivered }))).toEqual([{ hits: 300, final: true, undelivered: undefined }])
    expect(agent.log()).toMatch(/a snapshot's \d+ checks, \d+ counters and \d+ groups are over the broker's max_payload \(16384 bytes\): sent in \d+ parts/)
  }, 120_000)

  it('one check name too big even alone: its evaluations counted and stated as undelivered, everything else delivered (exit 3)', async () => {
    const before = target.count
    const r = await runBin(LOADS_RUNNER, ['big-check.ts:BigCheck.test_checks', '-u', '1', '-c', '300', '--agents', '1', '--server-url', target.url, '--output', 'json:big-check.json'], { cwd, env, timeoutMs: 90_000 })
    const all = r.stdout + r.stderr
    expect(target.count - before).toBe(300)
    expect(reportedHits(r.stdout), all).toBe(300)
    expect(testResult(r.stdout)).toEqual({ run: 300, errors: 0, failures: 0 })
    expect(r.stdout).toMatch(new RegExp(`Undelivered results: one agent counted hits that never reached this runner \\(not in these figures\\):\\n  \\S+-${agent.pid}: 0 hits and 0 test runs \\(and 300 check evaluations\\) in \\d+ snapshot parts? the broker could not take`))
    expect(r.code, all).toBe(3)
    const result = JSON.parse(readFileSync(path.join(cwd, 'big-check.json'), 'utf8')) as RunResult
    expect(result.summary.checks?.map((c) => [c.name, c.passes, c.failures])).toEqual([['ok', 300, 0]])
    expect(result.sources.map((x) => ({ hits: x.hits, final: x.final, undelivered: { hits: x.undelivered?.hits, testsRun: x.undelivered?.testsRun, checks: x.undelivered?.checks } }))).toEqual([
      { hits: 300, final: true, undelivered: { hits: 0, testsRun: 0, checks: 300 } },
    ])
    // The shipped JSON Schema knows `undelivered` (it refused any result that had one).
    const schema = JSON.parse(readFileSync(path.join(import.meta.dirname, '../../schema/loads-result.schema.json'), 'utf8')) as object
    const validate = new Ajv2020({ allErrors: true }).compile(schema)
    expect(validate(result), JSON.stringify(validate.errors)).toBe(true)
    expect(agent.log()).toMatch(/a snapshot part of \d+ bytes \(the check x{60}…\) is over the broker's max_payload \(16384 bytes\) even alone: not delivered, with 0 hits and 0 test runs \(and \d+ check evaluations\)/)
  }, 120_000)

  it('the outbox drops a message the client refuses as over max_payload at once, and stores what follows it', async () => {
    const nc = await connectBroker({ servers: [nats.url] }, { name: 'outbox test' })
    try {
      const { js, jsm } = await openJetStream(nc)
      const runId = 'outbox-too-large'
      await createRunStream(jsm, runId)
      const lines: string[] = []
      const outbox = new Outbox(js, (line) => lines.push(line))
      const startedMs = Date.now()
      outbox.pushEncoded(subjects.runSnapshot(runId, 'a'), new Uint8Array(20_000), 'big', { hits: 7, testsRun: 2 })
      for (let i = 0; i < 3; i++) outbox.push(subjects.runEvent(runId, 'a'), { type: 'run.event', i }, `small:${i}`)
      await outbox.flushed(60_000)
      expect(Date.now() - startedMs).toBeLessThan(30_000)
      expect(outbox.pending).toBe(0)
      expect(outbox.dropped).toBe(1)
      expect(outbox.undelivered).toEqual({ messages: 1, hits: 7, testsRun: 2 })
      expect((await jsm.streams.info(streamName(runId))).state.messages).toBe(3)
      expect(lines).toEqual([expect.stringMatching(/^a message of 20000 bytes is over the broker's max_payload: dropped with 7 hits$/)])
      await jsm.streams.delete(streamName(runId))
    } finally {
      await nc.close()
    }
  }, 90_000)
})
