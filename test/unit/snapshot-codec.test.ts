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
      else if (i % 9 === 0) rec.recordLateHit('POST', '/orders', i % 3 === 0 ? 503 : 201, us, us / 3, 250.5, 1e10 + i, 77, null, 1234.25)
      else rec.recordHit('GET', name, i % 13 === 0 ? 404 : 200, us, us / 2, i % 40 === 0 ? 812.75 : 0, 2048, 200, null)
    }
    recs[0]!.recordWsMessage('ws://127.0.0.1/feed', 'in', 300)
    recs[1]!.recordWsMessage('ws://127.0.0.1/feed', 'out', 12)
    recs[1]!.recordWsClose('ws://127.0.0.1/feed', 1000)
    recs[0]!.recordTest('failure', 'Shop.test_buy', { kind: 'AssertionError', message: 'expected 201, got 503 «ü»', stack: 'AssertionError\n    at Shop.test_buy (shop.ts:12:5)' })
    recs[1]!.recordTest('pass', 'Shop.test_buy')
    recs[0]!.incrCounter('orders', 3)
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
    expect(s.hits).toBe(1600)
    expect(s.service?.count).toBeGreaterThan(0)
    expect(s.endpoints.find((e) => e.method === 'WS')?.ws).toEqual({ messagesIn: 4, messagesOut: 4, closeCodes: { 1000: 4 } })
    expect(s.endpoints.find((e) => e.name === '/orders')!.bytesIn).toBeGreaterThan(2 ** 32)
    expect(s.counters).toEqual({ orders: 12 })
    expect(s.errors[0]?.message).toBe('expected 201, got 503 «ü»')
  })

  it('carries every field of the message unchanged but the histograms, which come back as the compact bytes', () => {
    const [snap] = agentSnapshots(1)
    const back = decodeSnapshotMessage(encodeSnapshotMessage(message(snap!)))!
    const strip = (s: Snapshot): unknown => ({ ...s, latency: null, service: null, endpoints: s.endpoints.map((e) => ({ ...e, latency: null, ttfb: null, service: e.service === undefined ? undefined : null })) })
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
