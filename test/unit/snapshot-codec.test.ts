import { describe, expect, it } from 'vitest'
import { decodeSnapshotMessage, encodeSnapshotMessage, isBinarySnapshot } from '../../src/cluster/snapshot-codec.js'
import { decode, encode, type SnapshotMessage } from '../../src/cluster/protocol.js'
import { Aggregator } from '../../src/stats/aggregator.js'
import { Recorder } from '../../src/stats/recorder.js'
import { SnapshotMerger } from '../../src/stats/snapshot-merge.js'
import type { Snapshot } from '../../src/stats/types.js'
import { rng } from '../helpers/histograms.js'


/** An agent's merged snapshots (2 workers), as it sends them: everything a snapshot can hold. */
function agentSnapshots(seconds: number): Snapshot[] {
  const rand = rng(11)
  let now = 1_700_000_000_000
  const recs = [0, 1].map((w) => new Recorder({ source: `agent-1/worker-${w}`, now: () => now }))
  const merger = new SnapshotMerger('agent-1', 2)
  const out: Snapshot[] = []
  for (let s = 0; s < seconds; s++) {
    for (let i = 0; i < 400; i++) {
      const rec = recs[i % 2]!
      const us = Math.exp(Math.log(500) + rand() * 6)
      const name = `/items/${i % 7}/{id}`
      if (i % 50 === 0) rec.recordHit('GET', name, 0, us, 0, 0, 0, 120, i % 100 === 0 ? 'ECONNRESET' : 'TIMEOUT')
      else if (i % 9 === 0) rec.recordLateHit('POST', '/orders', i % 3 === 0 ? 503 : 201, us, us / 3, 250.5, 1e10 + i, 77, null, 1234.25, undefined, undefined, 400.5)
      else rec.recordHit('GET', name, i % 13 === 0 ? 404 : 200, us, us / 2, i % 40 === 0 ? 812.75 : 0, 2048, 200, null)
    }
    // A scenario's users' hits: endpoints of their own (per scenario) beside the same URL's unscenarioed ones.
    recs[0]!.recordHit('GET', '/items/0/{id}', 200, 1500, 500, 0, 10, 5, null, undefined, 'browse')
    recs[1]!.recordHit('GET', '/items/0/{id}', 500, 1500, 500, 0, 10, 5, null, undefined, 'buy')
    recs[0]!.recordWsMessage('ws://127.0.0.1/feed', 'in', 300)
    recs[1]!.recordWsMessage('ws://127.0.0.1/feed', 'out', 12)
    recs[1]!.recordWsClose('ws://127.0.0.1/feed', 1000)
    recs[0]!.recordTest('failure', 'Shop.test_buy', { kind: 'AssertionError', message: 'expected 201, got 503 «ü»', stack: 'AssertionError\n    at Shop.test_buy (shop.ts:12:5)' })
    recs[1]!.recordTest('pass', 'Shop.test_buy')
    recs[1]!.recordTest('error', 'Shop.test_buy', { kind: 'ECONNREFUSED', message: 'connection refused by 127.0.0.1:9 (GET http://127.0.0.1:9/)', stack: '', hint: 'is the server running and listening on that port?' })
    recs[0]!.incrCounter('orders', 3)
    recs[s % 2]!.recordStrayBytes()
    if (s === 0) recs[1]!.recordStrayBytes()
    // Checks, groups (with the requests inside) and per-method run times.
    recs[0]!.recordCheck('status is 200', true)
    recs[1]!.recordCheck('status is 200', s % 2 === 0)
    recs[1]!.recordGroup('checkout', 'pass', 1500 + s * 1000)
    recs[0]!.recordGroup('checkout::pay', s === 1 ? 'failure' : 'pass', 700.5)
    recs[0]!.recordGroupRequest('checkout::pay', 'POST', '/pay')
    recs[1]!.recordTest('pass', 'Shop.test_browse', undefined, 2500 + s)
    // Scenarios: hits and runs of each, an open-model one with dropped starts.
    const browse = recs[0]!.scenario('browse')
    browse.hit(1200 + s, false)
    browse.hit(90_000, true)
    browse.run('pass', 3000)
    const buy = recs[1]!.scenario('buy')
    buy.hit(700, s === 2)
    buy.run(s === 2 ? 'failure' : 'pass', 800)
    if (s === 1) buy.dropped += 3
    now += 1000
    for (const rec of recs) merger.add(rec.snapshot(s === seconds - 1))
    out.push(merger.take(s === seconds - 1)!)
  }
  return out
}

const message = (snapshot: Snapshot): SnapshotMessage => ({ type: 'run.snapshot', runId: 'r-1', agentId: 'agent-1', snapshot })

function merged(snapshots: Snapshot[]): Aggregator {
  const a = new Aggregator({ startMs: 1_700_000_000_000, now: () => 1_700_000_100_000 })
  for (const s of snapshots) expect(a.add(s)).toBe(true)
  return a
}

describe('binary snapshot messages', () => {
  it('merge into exactly the totals, percentiles, series and histograms the JSON messages give', () => {
    const snapshots = agentSnapshots(4)
    const viaJson = snapshots.map((s) => (JSON.parse(JSON.stringify(message(s))) as SnapshotMessage).snapshot)
    const viaBinary = snapshots.map((s) => decodeSnapshotMessage(encodeSnapshotMessage(message(s)))!.snapshot)
    const a = merged(viaJson)
    const b = merged(viaBinary)
    expect(b.summary()).toEqual(a.summary())
    expect(b.series()).toEqual(a.series())
    expect(b.encodedHistograms()).toEqual(a.encodedHistograms())
    expect(b.sources()).toEqual(a.sources())
    // What was sent is all there: service times, WebSocket counts, float and >2^32 numbers.
    const s = a.summary()
    expect(s.hits).toBe(1608)
    // Scenarios travel apart (the runner's metrics label them) and the summary adds them up.
    expect(viaBinary[0]!.endpoints.filter((e) => e.name === '/items/0/{id}').map((e) => e.scenario)).toEqual([undefined, 'browse', 'buy'])
    expect(s.endpoints.filter((e) => e.name === '/items/0/{id}').map((e) => [e.hits, e.statuses['500']])).toEqual([[4 * 52 + 8, 4]]) // 52 a second outside scenarios
    expect(s.service?.count).toBeGreaterThan(0)
    expect(s.endpoints.find((e) => e.method === 'WS')?.ws).toEqual({ messagesIn: 4, messagesOut: 4, closeCodes: { 1000: 4 } })
    expect(s.endpoints.find((e) => e.name === '/orders')!.bytesIn).toBeGreaterThan(2 ** 32)
    expect(s.counters).toEqual({ orders: 12 })
    // TLS handshakes (https) travel; plain connects carry none.
    const orders = s.endpoints.find((e) => e.name === '/orders')!
    expect([orders.tlsHandshakes, orders.tlsMeanMs]).toEqual([orders.connects, 0.4005])
    const plainConnects = s.endpoints.filter((e) => e.name.startsWith('/items/') && e.connects > 0)
    expect(plainConnects.length).toBeGreaterThan(0)
    expect(plainConnects.every((e) => !('tlsHandshakes' in e))).toBe(true)
    expect(s.strayBytesDrops).toBe(5)
    expect(s.errors.map((g) => [g.count, g.kind, g.hint])).toEqual([
      [4, 'AssertionError', undefined],
      [4, 'ECONNREFUSED', 'is the server running and listening on that port?'],
    ])
    expect(s.errors[0]?.message).toBe('expected 201, got 503 «ü»')
    expect(s.checks).toEqual([{ name: 'status is 200', passes: 6, failures: 2 }])
    expect(s.groups?.map((g) => [g.name, g.runs, g.failures, g.errors, g.duration.count, g.requests])).toEqual([
      ['checkout', 4, 0, 0, 4, undefined],
      ['checkout::pay', 4, 1, 0, 4, { 'POST /pay': 4 }],
    ])
    expect(s.groups?.[0]?.duration.max).toBeCloseTo(4.5, 1)
    expect(s.methods?.find((m) => m.name === 'Shop.test_browse')?.duration.count).toBe(4)
    expect(s.scenarios?.map((x) => [x.name, x.runs, x.failures, x.hits, x.failed, x.latency.count, x.duration.count, x.dropped])).toEqual([
      ['browse', 4, 0, 8, 4, 8, 4, undefined],
      ['buy', 4, 1, 4, 1, 4, 4, 3],
    ])
    expect(s.scenarios?.[0]?.latency.max).toBeCloseTo(90, 0)
  })

  it('carries every field of the message unchanged but the histograms, which come back as the compact bytes', () => {
    const [snap] = agentSnapshots(1)
    const back = decodeSnapshotMessage(encodeSnapshotMessage(message(snap!)))!
    const timed = (list: Snapshot['groups']): unknown => list?.map((t) => ({ ...t, duration: null }))
    const strip = (s: Snapshot): unknown => ({
      ...s, latency: null, service: null, groups: timed(s.groups), methods: timed(s.methods),
      scenarios: s.scenarios?.map((t) => ({ ...t, duration: null, latency: null })),
      endpoints: s.endpoints.map((e) => ({ ...e, latency: null, ttfb: null, service: e.service === undefined ? undefined : null })),
    })
    expect(strip(back.snapshot)).toEqual(strip(snap!))
    expect({ ...back, snapshot: null }).toEqual({ type: 'run.snapshot', runId: 'r-1', agentId: 'agent-1', snapshot: null })
    const first = back.snapshot.endpoints[0]!
    expect(first.latency).toBeInstanceOf(Uint8Array)
    expect(Buffer.from(first.latency as Uint8Array).toString('base64')).toBe((snap!.endpoints[0]!.latency as string).slice(1))
  })

  it('is what protocol.encode sends for a snapshot, and is smaller than its JSON', () => {
    const [snap] = agentSnapshots(1)
    const bytes = encode(message(snap!))
    expect(isBinarySnapshot(bytes)).toBe(true)
    expect(bytes.length).toBeLessThan(new TextEncoder().encode(JSON.stringify(message(snap!))).length * 0.85)
    expect(decode<SnapshotMessage>(bytes)?.snapshot.seq).toBe(0)
    // Every other message stays JSON.
    expect(new TextDecoder().decode(encode({ type: 'run.end', runId: 'r-1', agentId: null }))).toBe('{"type":"run.end","runId":"r-1","agentId":null}')
  })

  it('decodes from a copy: the transport may reuse its buffer', () => {
    const [snap] = agentSnapshots(1)
    const bytes = encode(message(snap!))
    const back = decode<SnapshotMessage>(bytes)!
    const expected = merged([back.snapshot]).summary()
    bytes.fill(0)
    expect(merged([back.snapshot]).summary()).toEqual(expected)
  })

  it('anything truncated, padded or corrupt is not a message (ignored, as bad JSON is)', () => {
    const [snap] = agentSnapshots(1)
    const bytes = encodeSnapshotMessage(message(snap!))
    for (const cut of [3, 10, 100, Math.floor(bytes.length / 2), bytes.length - 1]) expect(decodeSnapshotMessage(bytes.subarray(0, cut))).toBeUndefined()
    expect(decodeSnapshotMessage(new Uint8Array([...bytes, 0]))).toBeUndefined()
    const wrongVersion = Uint8Array.from(bytes)
    wrongVersion[2] = 9
    expect(decodeSnapshotMessage(wrongVersion)).toBeUndefined()
    expect(decode(new Uint8Array([0x4c, 0x53, 2, 200, 200, 200]))).toBeUndefined()
    expect(decode(new TextEncoder().encode('LS not json'))).toBeUndefined()
  })
})
