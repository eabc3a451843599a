import { writeFileSync } from 'node:fs'
import { testTemp } from '../helpers/temp.js'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { resolveBroker } from '../../src/cli/broker-flags.js'
import { AgentBoard } from '../../src/cluster/agent-board.js'
import { parseIni, readClusterIni } from '../../src/cluster/cluster-config.js'
import { checkAgentSecurity, isLoopbackHost, mergeCredentials } from '../../src/cluster/nats-connection.js'
import { natsServerConfig } from '../../src/cluster/nats-server-process.js'
import { decode, encode, safeToken, subjects } from '../../src/cluster/protocol.js'
import { carried, describeUndelivered, emptied, partName, splitToFit, spreadNamed, trimErrors } from '../../src/cluster/snapshot-split.js'
import type { Snapshot } from '../../src/stats/types.js'

function snapshot(source: string, seq: number, hits: number, final = false): Snapshot {
  return {
    v: 1, source, seq, startMs: 0, endMs: 1000, step: 0, activeUsers: 1,
    tests: { run: hits, failures: 0, errors: 0 },
    endpoints: [{ method: 'GET', name: '/', hits, errors: 0, bytesIn: 0, bytesOut: 0, statuses: { 200: hits }, errorKinds: {}, latency: '', ttfb: '', connects: 0, connectUs: 0 }],
    latency: '', errors: [], counters: {}, final,
  } as unknown as Snapshot
}

describe('protocol', () => {
  it('versions every subject and keeps agent ids to one subject token', () => {
    expect(subjects.runRequest('a')).toBe('loads.v1.agent.a.run')
    expect(subjects.runSnapshot('r', 'a')).toBe('loads.v1.run.r.snapshot.a')
    expect(safeToken('db.example.com-42')).toBe('db_example_com-42')
  })

  it('decodes its own messages and ignores anything else', () => {
    expect(decode(encode({ type: 'x', runId: null }))).toEqual({ type: 'x', runId: null })
    expect(decode(new TextEncoder().encode('not json'))).toBeUndefined()
    expect(decode(new TextEncoder().encode('{"no":"type"}'))).toBeUndefined()
  })
})

describe('AgentBoard', () => {
  it('counts each snapshot once per agent, whatever the redeliveries', () => {
    const board = new AgentBoard(() => 0)
    board.expect(['a', 'b'])
    expect(board.addSnapshot('a', snapshot('a/worker-0', 0, 10))).toBe(true)
    expect(board.addSnapshot('a', snapshot('a/worker-0', 0, 10))).toBe(false)
    expect(board.addSnapshot('a', snapshot('a/worker-1', 0, 5))).toBe(true)
    expect(board.row('a')).toMatchObject({ hits: 15, state: 'running' })
  })

  it('is done when every agent is finished, failed, refused or lost; partial unless all finished or stopped', () => {
    const board = new AgentBoard(() => 0)
    board.expect(['a', 'b'])
    board.addEvent({ type: 'run.event', runId: 'r', agentId: 'a', event: 'finished', atMs: 0, reason: 'done' })
    expect(board.allDone()).toBe(false)
    board.addEvent({ type: 'run.event', runId: 'r', agentId: 'b', event: 'lost', atMs: 0, silentMs: 3200 })
    expect(board.allDone()).toBe(true)
    expect(board.partial()).toBe(true)
    expect(board.lines().join('\n')).toContain('lost: no heartbeat for 3.2 s; its results up to its last snapshot are kept')
  })

  it('waits for a silent agent (not done) until it is back or given up; names each agent whose final snapshot never came, with its hits counted', () => {
    const board = new AgentBoard(() => 0)
    board.expect(['a', 'b', 'c'])
    board.addSnapshot('a', snapshot('a', 0, 7))
    board.addSnapshot('a', snapshot('a', 1, 3, true))
    board.addEvent({ type: 'run.event', runId: 'r', agentId: 'a', event: 'finished', atMs: 0, reason: 'done' })
    board.addSnapshot('b', snapshot('b', 0, 12))
    board.addEvent({ type: 'run.event', runId: 'r', agentId: 'c', event: 'refused', atMs: 0, code: 'X', message: 'no', detail: '' })
    board.silent('b')
    expect(board.row('b')?.state).toBe('silent')
    expect(board.allDone()).toBe(false)
    expect(board.back('b')).toBe('silent')
    expect(board.row('b')?.state).toBe('running')
    board.silent('b')
    board.addEvent({ type: 'run.event', runId: 'r', agentId: 'b', event: 'lost', atMs: 0, silentMs: 15_100, connection: 'open' })
    expect(board.allDone()).toBe(true)
    expect(board.missingTails().map((r) => [r.agentId, r.hits])).toEqual([['b', 12]])
    expect(board.tailLines('run-1')).toEqual([
      'Missing results: one agent did not report to the end; what it did after the last snapshot below is not in these figures:',
      '  b (lost: no heartbeat for 15.1 s): 12 hits counted, up to its last snapshot (00:00:01 UTC, 1 s into the run); its final snapshot never came',
      '  Whatever it stored later is replayed by: loads-runner --attach run-1',
    ])
    // Given up, then heard again while the run goes on: waited for again.
    expect(board.back('b')).toBe('lost')
    expect(board.allDone()).toBe(false)
  })

  it('names why an agent failed in the missing-results lines: its message on one line, cut to 100 characters', () => {
    const board = new AgentBoard(() => 0)
    board.expect(['a', 'b', 'c'])
    board.addSnapshot('a', snapshot('a', 0, 9))
    board.addEvent({ type: 'run.event', runId: 'r', agentId: 'a', event: 'failed', atMs: 0, message: 'worker-1 exited with code 134', detail: '' })
    board.addSnapshot('b', snapshot('b', 0, 4))
    const long = "could not load the test bundle: Cannot find module 'left-pad' imported from /var/lib/loads-agent/runs/r-1/site.mjs\n    at packageResolve (node:internal/modules/esm/resolve:854:9)"
    board.addEvent({ type: 'run.event', runId: 'r', agentId: 'b', event: 'failed', atMs: 0, message: long, detail: '' })
    board.addEvent({ type: 'run.event', runId: 'r', agentId: 'c', event: 'failed', atMs: 0, message: 'out of memory', detail: '' })
    // Before: "(failed)" alone, while the agents table and sources[].unfinished.reason say why.
    expect(board.tailLines('r')).toEqual([
      'Missing results: 3 agents did not report to the end; what they did after the last snapshot below is not in these figures:',
      '  a (failed: worker-1 exited with code 134): 9 hits counted, up to its last snapshot (00:00:01 UTC, 1 s into the run); its final snapshot never came',
      "  b (failed: could not load the test bundle: Cannot find module 'left-pad' imported from /var/lib/loads-agent/ru…): 4 hits counted, up to its last snapshot (00:00:01 UTC, 1 s into the run); its final snapshot never came",
      '  c (failed: out of memory): none of its results reached this runner; 0 hits counted',
      '  Whatever they stored later is replayed by: loads-runner --attach r',
    ])
    // The whole message stays in the agents table and in the JSON result's reason.
    expect(board.unfinished().find((u) => u.agentId === 'b')?.reason).toBe(`failed: ${long}`)
  })

  it('keeps each agent on one line of the agents table, whatever line breaks its message holds', () => {
    const board = new AgentBoard(() => 0)
    board.expect(['a', 'b', 'c'])
    board.addSnapshot('a', snapshot('a', 0, 9))
    board.addEvent({ type: 'run.event', runId: 'r', agentId: 'a', event: 'finished', atMs: 0, reason: 'done' })
    board.addSnapshot('b', snapshot('b', 0, 4))
    const stack = "Cannot find module 'left-pad'\n    at packageResolve (node:internal/modules/esm/resolve:854:9)\r\n\tat moduleResolve (node:internal/modules/esm/resolve:927:20)\n"
    board.addEvent({ type: 'run.event', runId: 'r', agentId: 'b', event: 'failed', atMs: 0, message: stack, detail: '' })
    board.addEvent({ type: 'run.event', runId: 'r', agentId: 'c', event: 'refused', atMs: 0, code: 'X', message: 'busy with run r-0\n\nretry later', detail: '' })
    // Before: the stack's lines came out as rows of their own, between the agents' rows.
    expect(board.lines()).toEqual([
      'Agents: 3 (1 finished, 1 failed, 1 refused)',
      '  AGENT       HITS   ERRORS  FAILURES  STATE',
      '  a              9        0         0  finished',
      "  b              4        0         0  failed: Cannot find module 'left-pad' at packageResolve (node:internal/modules/esm/resolve:854:9) at moduleResolve (node:internal/modules/esm/resolve:927:20)",
      '  c              0        0         0  refused the run: busy with run r-0 retry later',
    ])
    // The JSON result's reason keeps the message as it came.
    expect(board.unfinished().find((u) => u.agentId === 'b')?.reason).toBe(`failed: ${stack}`)
  })

  it("keeps each of an agent's worker notes on one line under the table", () => {
    const board = new AgentBoard(() => 0)
    board.expect(['a'])
    board.addSnapshot('a', snapshot('a', 0, 9))
    const crash = "worker-1 crashed: TypeError: Cannot read properties of undefined (reading 'id')\n    at Shop.test_buy (file:///srv/shop.mjs:12:5)\n"
    board.addEvent({ type: 'run.event', runId: 'r', agentId: 'a', event: 'finished', atMs: 0, reason: 'done', notes: [crash, 'worker-0 was slow to finish'] })
    // Before: the crash's stack line came out as a line of its own, indented like a note.
    expect(board.lines()).toEqual([
      'Agents: 1 (1 finished)',
      '  AGENT       HITS   ERRORS  FAILURES  STATE',
      '  a              9        0         0  finished',
      'Agent workers:',
      "  worker-1 crashed: TypeError: Cannot read properties of undefined (reading 'id') at Shop.test_buy (file:///srv/shop.mjs:12:5)",
      '  worker-0 was slow to finish',
    ])
  })

  it('an agent lost after its final snapshot (before its finished event) leaves nothing missing: not partial', () => {
    const board = new AgentBoard(() => 0)
    board.expect(['a'])
    board.addSnapshot('a', snapshot('a', 0, 5))
    board.addSnapshot('a', snapshot('a', 1, 2, true))
    board.addEvent({ type: 'run.event', runId: 'r', agentId: 'a', event: 'lost', atMs: 0, silentMs: 15_000, connection: 'open' })
    expect(board.allDone()).toBe(true)
    expect(board.partial()).toBe(false)
    expect(board.missingTails()).toEqual([])
    expect(board.lines().join('\n')).toContain('lost after its final snapshot (no heartbeat for 15.0 s): its results are complete')
  })

  it('an agent that finished without delivering some of what it counted: partial, with exactly those hits named', () => {
    const board = new AgentBoard(() => 0)
    board.expect(['a', 'b'])
    board.addSnapshot('a', snapshot('a', 0, 5, true))
    board.addEvent({ type: 'run.event', runId: 'r', agentId: 'a', event: 'finished', atMs: 0, reason: 'done', undelivered: { messages: 2, hits: 17, testsRun: 0 } })
    board.addSnapshot('b', snapshot('b', 0, 4, true))
    board.addEvent({ type: 'run.event', runId: 'r', agentId: 'b', event: 'finished', atMs: 0, reason: 'done', undelivered: { messages: 1, hits: 0, testsRun: 0, checks: 40 } })
    expect(board.allDone()).toBe(true)
    expect(board.partial()).toBe(true)
    expect(board.missingTails()).toEqual([])
    expect(board.tailLines('r')).toEqual([
      'Undelivered results: 2 agents counted hits that never reached this runner (not in these figures):',
      "  a: 17 hits and 0 test runs in 2 snapshot parts the broker could not take (over its max_payload even alone, or storing failed for 2 min); see the agent's log",
      "  b: 0 hits and 0 test runs (and 40 check evaluations) in 1 snapshot part the broker could not take (over its max_payload even alone, or storing failed for 2 min); see the agent's log",
    ])
  })

  it('reports a new step once, when the first agent reaches it', () => {
    const board = new AgentBoard(() => 0)
    const step = (agentId: string, s: number) => board.addEvent({ type: 'run.event', runId: 'r', agentId, event: 'step', atMs: 0, step: s })
    expect(step('a', 0)).toBe(0)
    expect(step('b', 0)).toBeUndefined()
    expect(step('b', 1)).toBe(1)
  })
})

describe('splitToFit', () => {
  it('spreads the endpoints of a snapshot too big for the broker over parts that fit, each under its own seq, the totals unchanged', () => {
    const big = { ...snapshot('a', 4, 0, true), tests: { run: 9, failures: 1, errors: 0 }, counters: { c: 2 } }
    big.endpoints = Array.from({ length: 7 }, (_, i) => ({ ...snapshot('a', 0, i + 1).endpoints[0]!, name: `/p/${i}` }))
    big.generator = { threads: 1 } as unknown as Snapshot['generator']
    let seq = 5
    const parts = splitToFit(big, (s) => s.endpoints.length <= 2, () => seq++)
    expect(parts.map((p) => p.endpoints.map((e) => e.name))).toEqual([['/p/0', '/p/1'], ['/p/2', '/p/3'], ['/p/4', '/p/5'], ['/p/6']])
    expect(parts.map((p) => p.seq)).toEqual([4, 5, 6, 7])
    expect(parts.map((p) => p.final)).toEqual([false, false, false, true])
    expect(parts.map((p) => p.tests.run)).toEqual([9, 0, 0, 0])
    expect(parts.map((p) => p.counters)).toEqual([{ c: 2 }, {}, {}, {}])
    expect(parts.map((p) => p.generator !== undefined)).toEqual([false, false, false, true])
    expect(parts.flatMap((p) => p.endpoints).reduce((n, e) => n + e.hits, 0)).toBe(28)
    // One that fits is sent as it is.
    expect(splitToFit(big, () => true, () => seq++)).toEqual([big])
  })
})

describe('the agent’s door policy', () => {
  it('knows loopback addresses', () => {
    for (const h of ['127.0.0.1', '127.3.2.1', 'localhost', '::1', '[::1]']) expect(isLoopbackHost(h), h).toBe(true)
    for (const h of ['10.0.0.1', '0.0.0.0', 'broker.example.com', '::']) expect(isLoopbackHost(h), h).toBe(false)
  })

  it('refuses a remote broker without authentication or TLS, unless --allow-insecure', () => {
    expect(() => checkAgentSecurity({ servers: ['nats://127.0.0.1:4222'] })).not.toThrow()
    expect(() => checkAgentSecurity({ servers: ['nats://10.0.0.5:4222'] })).toThrow(/refusing to use the broker nats:\/\/10\.0\.0\.5:4222/)
    expect(() => checkAgentSecurity({ servers: ['nats://10.0.0.5:4222'], user: 'loads', password: 'x' })).not.toThrow()
    expect(() => checkAgentSecurity({ servers: ['tls://10.0.0.5:4222'] })).not.toThrow()
    expect(() => checkAgentSecurity({ servers: ['nats://10.0.0.5:4222'], allowInsecure: true })).not.toThrow()
  })
})

describe('broker credentials', () => {
  it('flags win over the credentials file, field by field', () => {
    const file = { servers: ['nats://127.0.0.1:4222'], user: 'loads', password: 'p' }
    expect(mergeCredentials(file, {})).toEqual({ servers: ['nats://127.0.0.1:4222'], user: 'loads', password: 'p' })
    expect(mergeCredentials(file, { token: 't' })).toEqual({ servers: ['nats://127.0.0.1:4222'], token: 't' })
  })

  it('reads loads-cluster’s credentials file by default, but only for its own broker', () => {
    const dir = testTemp('loads-creds-')
    writeFileSync(path.join(dir, 'credentials.json'), JSON.stringify({ servers: ['nats://127.0.0.1:4999'], user: 'loads', password: 'p' }))
    const env = { LOADS_CLUSTER_DIR: dir }
    expect(resolveBroker({}, env, dir)).toMatchObject({ servers: ['nats://127.0.0.1:4999'], user: 'loads', password: 'p' })
    expect(resolveBroker({ broker: 'nats://127.0.0.1:4999' }, env, dir)).toMatchObject({ user: 'loads' })
    expect(resolveBroker({ broker: 'nats://10.0.0.9:4222' }, env, dir)).toEqual({ servers: ['nats://10.0.0.9:4222'] })
  })
})

describe('cluster.ini', () => {
  it('reads sections, keys and comments', () => {
    expect([...parseIni('[broker]\nport = 4223 ; comment\n# whole-line comment\n[agents]\ncount=3\n', 'x.ini')]).toEqual([
      ['broker.port', '4223'],
      ['agents.count', '3'],
    ])
  })

  it('rejects an unknown setting rather than ignoring a typo', () => {
    const file = path.join(testTemp('loads-ini-'), 'cluster.ini')
    writeFileSync(file, '[agents]\ncuont = 3\n')
    expect(() => readClusterIni(file)).toThrow(/unknown setting 'agents.cuont'/)
    writeFileSync(file, '[agents]\ncount = 3\nworkers = 2\n[broker]\nhost = 0.0.0.0\n')
    expect(readClusterIni(file)).toEqual({ agents: 3, workers: 2, host: '0.0.0.0' })
  })

  it('writes a nats-server config whose generated values cannot break out of their quotes', () => {
    const conf = natsServerConfig({ host: '127.0.0.1', port: 4222, maxPayload: '8MB', storeDir: '/tmp/a "b"', user: 'loads', password: 'p"w', serverName: 'x' })
    expect(conf).toContain('listen: "127.0.0.1:4222"')
    expect(conf).toContain('password: "p\\"w"')
    expect(conf).toContain('store_dir: "/tmp/a \\"b\\""')
  })

  it('gives an endpoint too big alone a part of its own, so the first part keeps every other figure; emptied, a part keeps its seq and final flag', () => {
    const big = { ...snapshot('a', 4, 0, true), tests: { run: 9, failures: 1, errors: 0 }, counters: { c: 2 } }
    big.endpoints = [{ ...snapshot('a', 0, 6).endpoints[0]!, name: 'huge' }, { ...snapshot('a', 0, 3).endpoints[0]!, name: '/ok' }]
    let seq = 5
    const fits = (s: Snapshot): boolean => !s.endpoints.some((e) => e.name === 'huge')
    const parts = splitToFit(big, fits, () => seq++)
    expect(parts.map((p) => [p.seq, p.endpoints.map((e) => e.name), p.tests.run, p.final])).toEqual([
      [4, [], 9, false],
      [5, ['huge'], 0, false],
      [6, ['/ok'], 0, true],
    ])
    expect(parts.map(fits)).toEqual([true, false, true])
    expect(carried(parts[1]!)).toEqual({ hits: 6, testsRun: 0 })
    const stub = emptied(parts[1]!)
    expect([stub.seq, stub.endpoints, stub.final, carried(stub)]).toEqual([5, [], false, { hits: 0, testsRun: 0 }])
    expect(emptied(parts[2]!).final).toBe(true)
  })

  it('trimErrors keeps the most frequent error groups whole that fit and folds the rest per outcome and kind, every count kept', () => {
    const part = snapshot('a', 0, 3)
    const group = (kind: string, n: number) => ({ outcome: 'error' as const, kind, message: `m${n}`, test: 'T.t', count: n, stack: 's' })
    part.errors = [group('TypeError', 1), group('Error', 5), group('Error', 2), group('TypeError', 4), group('Error', 3)]
    const fitsGroups = (max: number) => (s: Snapshot): boolean => s.errors.length <= max
    const t = trimErrors(part, fitsGroups(4))!
    expect(t.errors.map((g) => [g.kind, g.message, g.count])).toEqual([
      ['Error', 'm5', 5],
      ['TypeError', 'm4', 4],
      ['Error', '(other errors)', 5],
      ['TypeError', '(other errors)', 1],
    ])
    // Not even one group per kind fits: one per outcome.
    expect(trimErrors(part, fitsGroups(1))!.errors).toEqual([{ outcome: 'error', kind: '(other errors)', message: '(other errors)', test: '', count: 15, stack: '' }])
    expect(trimErrors(part, fitsGroups(0))).toBeUndefined()
    expect(trimErrors(snapshot('a', 0, 3), () => true)).toBeUndefined()
    expect(t.endpoints).toEqual(part.endpoints)
  })

  it('spreadNamed deals a first part\'s checks, counters and groups over parts that fit, every count kept; a name too big alone gets a part of its own, counted', () => {
    const head: Snapshot = { ...snapshot('a', 4, 0, true), endpoints: [], tests: { run: 9, failures: 0, errors: 1 } }
    head.errors = [{ outcome: 'error', kind: 'TypeError', message: 'm', test: 'T.t', count: 1, stack: '' }]
    head.checks = { c0: { passes: 3, failures: 1 }, c1: { passes: 2, failures: 0 }, huge: { passes: 5, failures: 2 } }
    head.counters = { n0: 10, n1: 20 }
    head.groups = [{ name: 'g0', runs: 4, failures: 0, errors: 0, duration: '' }]
    head.methods = [{ name: 'T.t', runs: 9, failures: 0, errors: 1, duration: '' }]
    head.generator = { threads: 1 } as unknown as Snapshot['generator']
    // A part fits with two named figures at most, and never with the check named huge.
    const named = (s: Snapshot): number => Object.keys(s.checks ?? {}).length + Object.keys(s.counters).length + (s.groups?.length ?? 0)
    const fits = (s: Snapshot): boolean => named(s) <= 2 && s.checks?.['huge'] === undefined
    let seq = 5
    const parts = spreadNamed(head, fits, () => seq++)!
    expect(parts.map((p) => [p.seq, Object.keys(p.checks ?? {}), Object.keys(p.counters), (p.groups ?? []).map((g) => g.name), p.tests.run, p.final, p.generator !== undefined])).toEqual([
      [4, [], [], [], 9, false, false],
      [5, ['c0', 'c1'], [], [], 0, false, false],
      [6, ['huge'], [], [], 0, false, false],
      [7, [], ['n0', 'n1'], [], 0, false, false],
      [8, [], [], ['g0'], 0, true, true],
    ])
    // The first keeps everything else: test runs, errors, methods.
    expect([parts[0]!.errors, parts[0]!.methods]).toEqual([head.errors, head.methods])
    expect(parts.map(fits)).toEqual([true, true, false, true, true])
    // What the part too big alone carried: counted, and named in the agent's log.
    expect(carried(parts[2]!)).toEqual({ hits: 0, testsRun: 0, checks: 7 })
    expect(partName(parts[2]!)).toBe('the check huge')
    expect(carried(head)).toEqual({ hits: 0, testsRun: 9, checks: 13, counters: 30, groups: 4 })
    expect(describeUndelivered(carried(head))).toBe('0 hits and 9 test runs (and 13 check evaluations, 4 group blocks, 30 added to counters)')
    // Nothing of the kind: nothing to spread.
    expect(spreadNamed(snapshot('a', 0, 3), () => false, () => seq++)).toBeUndefined()
  })
})
