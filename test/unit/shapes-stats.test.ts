import { describe, expect, it } from 'vitest'
import { Aggregator } from '../../src/stats/aggregator.js'
import { Recorder } from '../../src/stats/recorder.js'

describe('open-model and WebSocket stats merge exactly', () => {
  it('keeps the raw service time beside the latency counted from the intended start', () => {
    const a = new Recorder({ source: 'worker-0' })
    const b = new Recorder({ source: 'worker-1' })
    // 99 on-time hits of 1 ms, and one that started 900 ms late.
    for (let i = 0; i < 99; i++) (i % 2 ? a : b).recordLateHit('GET', '/', 200, 1000, 500, 0, 10, 0, null, 0)
    a.recordLateHit('GET', '/', 200, 1000, 500, 0, 10, 0, null, 900_000)
    a.recordDropped(3)
    b.recordDropped(4)
    const agg = new Aggregator()
    agg.add(a.snapshot(true))
    agg.add(b.snapshot(true))
    const s = agg.summary()
    expect(s.hits).toBe(100)
    expect(s.dropped).toBe(7)
    expect(s.latency.count).toBe(100)
    expect(s.latency.max).toBeGreaterThan(900)
    expect(s.service?.count).toBe(100)
    expect(s.service?.max).toBeCloseTo(1, 1)
    expect(s.endpoints[0]?.service?.count).toBe(100)
    expect(agg.encodedHistograms().service).toBeTypeOf('string')
  })

  it('leaves closed-model summaries without service time or dropped starts', () => {
    const r = new Recorder({ source: 'worker-0' })
    r.recordHit('GET', '/', 200, 1000, 500, 0, 10, 0, null)
    const agg = new Aggregator()
    agg.add(r.snapshot(true))
    const s = agg.summary()
    expect(s.service).toBeUndefined()
    expect(s.dropped).toBeUndefined()
    expect(r.snapshot().service).toBeUndefined()
  })

  it('adds WebSocket messages, bytes and close codes per URL name across sources', () => {
    const agg = new Aggregator()
    for (const source of ['w0', 'w1']) {
      const r = new Recorder({ source })
      r.recordHit('WS', '/echo', 101, 2000, 2000, 1000, 0, 0, null)
      r.recordWsMessage('/echo', 'out', 5)
      r.recordWsMessage('/echo', 'in', 5)
      r.recordWsMessage('/echo', 'in', 7)
      agg.add(r.snapshot())
      // Traffic after the handshake's second still counts: an endpoint with messages but no hits.
      r.recordWsClose('/echo', 1000)
      agg.add(r.snapshot(true))
    }
    const ws = agg.summary().endpoints.find((e) => e.method === 'WS')
    expect(ws).toMatchObject({ hits: 2, statuses: { '101': 2 }, bytesIn: 24, bytesOut: 10, ws: { messagesIn: 4, messagesOut: 2, closeCodes: { '1000': 2 } } })
  })
})
