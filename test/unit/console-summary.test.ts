import { describe, it, expect } from 'vitest'
import { Aggregator } from '../../src/stats/aggregator.js'
import { Recorder } from '../../src/stats/recorder.js'
import {
  formatBytes,
  formatDuration,
  formatMs,
  formatSummary,
} from '../../src/report/console/summary.js'
import type { RunSummary } from '../../src/stats/types.js'

function runSummary(): RunSummary {
  let now = 0
  const rec = new Recorder({ source: 'a', now: () => now })
  for (let i = 0; i < 998; i++) rec.recordHit('GET', '/', 200, 2000, 1000, 0, 1200, 100, null)
  rec.recordHit('GET', '/', 500, 2000, 1000, 0, 100, 10, null)
  rec.recordHit('GET', '/', 500, 2000, 1000, 0, 100, 10, null)
  rec.recordHit('POST', '/login', 201, 40_000, 1000, 2000, 100, 10, null)
  rec.recordHit('POST', '/login', 0, 40_000, 0, 0, 0, 10, 'ECONNREFUSED')
  for (let i = 0; i < 997; i++) rec.recordTest('pass', 'TestWebSite.test_something')
  const failure = {
    kind: 'AssertionError',
    message: 'expected 200, got 500',
    stack: 'AssertionError: expected 200, got 500\n    at TestWebSite.test_something (example.ts:12:5)',
  }
  rec.recordTest('failure', 'TestWebSite.test_something', failure)
  rec.recordTest('failure', 'TestWebSite.test_something', failure)
  rec.recordTest('error', 'TestWebSite.test_other', { kind: 'TypeError', message: 'x is undefined', stack: 'TypeError: x is undefined\n    at example.ts:14:2' })
  for (let i = 0; i < 3; i++) {
    rec.recordTest('error', 'TestWebSite.test_other', { kind: `E${i}`, message: 'm', stack: `E${i}: m\n    at f${i} (x.ts:1:1)` })
  }
  rec.incrCounter('logins', 42)
  now = 10_000
  const agg = new Aggregator({ startMs: 0 })
  agg.add(rec.snapshot(true))
  return agg.summary()
}

describe('formatSummary', () => {
  const text = formatSummary(runSummary())
  const lines = text.trimEnd().split('\n')

  it('ends with the exact <TestResult> line', () => {
    expect(lines[lines.length - 1]).toBe('<TestResult run=1003 errors=4 failures=2>')
    expect(text.endsWith('>\n')).toBe(true)
  })

  it('states duration, tests, hits, bytes and latency', () => {
    expect(lines.slice(0, 5)).toEqual([
      'Duration: 10.00 s',
      'Tests: run=1003 errors=4 failures=2',
      'Hits: 1002 (100 hits/s), failed: 3 (0.30%: network errors 1, HTTP 2)',
      'Bytes: in 1.20 MB, out 99.8 kB',
      'Latency (ms): min 2.00  mean 2.08  p50 2.00  p90 2.00  p95 2.00  p99 2.00  p99.9 40.0  max 40.0',
    ])
  })

  it('prints one aligned row per endpoint, busiest first, with status codes and error kinds', () => {
    const header = lines.findIndex((l) => l.startsWith('METHOD'))
    expect(lines.slice(header, header + 3)).toEqual([
      'METHOD  NAME    HITS  HITS/S  P50 ms  P95 ms  P99 ms  FAILED  STATUS',
      'GET     /       1000     100    2.00    2.00    2.00       2  200×998 500×2',
      'POST    /login     2    0.20    40.0    40.0    40.0       1  201×1 ECONNREFUSED×1',
    ])
  })

  it('groups errors with counts and prints the top 3 tracebacks without the repeated first line', () => {
    expect(text).toContain('Errors and failures (5 kinds):')
    const row = lines.indexOf('  COUNT  OUTCOME  KIND            TEST')
    expect(lines.slice(row, row + 3)).toEqual([
      '  COUNT  OUTCOME  KIND            TEST',
      '      2  failure  AssertionError  TestWebSite.test_something',
      '         expected 200, got 500',
    ])
    expect(text).toContain('Tracebacks (top 3):')
    expect(text).toContain('  [1] AssertionError: expected 200, got 500  (2×, TestWebSite.test_something)\n      at TestWebSite.test_something (example.ts:12:5)\n')
    expect(text.match(/^ {2}\[\d\]/gm)).toHaveLength(3)
  })

  it('prints a long message whole under its row, line by line, and the hint the error gave', () => {
    // A message past the 120 characters the summary used to cut it at, with its way out at the
    // end, and a LoadsError's hint (what the worker records from the error it caught).
    const message = "gRPC: 127.0.0.1:50051 has no server reflection (UNIMPLEMENTED): pass { proto: 'service.proto' } instead; " + 'z'.repeat(100) + ' end'
    const hint = 'neither grpc.reflection.v1.ServerReflection nor v1alpha answered; give the .proto file(s) of the service, relative to the test file'
    const rec = new Recorder({ source: 'a', now: () => 0 })
    for (let i = 0; i < 7; i++) rec.recordTest('error', 'Grpc.test_call', { kind: 'LoadsError', message, stack: '', hint })
    rec.recordTest('failure', 'Grpc.test_call', { kind: 'AssertionError', message: 'Expected values to be strictly equal:\n\n1 !== 2\n', stack: '' })
    const agg = new Aggregator({ startMs: 0 })
    agg.add(rec.snapshot(true))
    const summary = agg.summary()
    expect(summary.errors.map((g) => [g.count, g.message, g.hint])).toEqual([
      [7, message, hint],
      [1, 'Expected values to be strictly equal:\n\n1 !== 2\n', undefined],
    ])
    const out = formatSummary(summary).split('\n')
    const at = out.indexOf('Errors and failures (2 kinds):')
    expect(out.slice(at, at + 8)).toEqual([
      'Errors and failures (2 kinds):',
      '  COUNT  OUTCOME  KIND            TEST',
      '      7  error    LoadsError      Grpc.test_call',
      `         ${message}`,
      `         hint: ${hint}`,
      '      1  failure  AssertionError  Grpc.test_call',
      '         Expected values to be strictly equal:',
      '         1 !== 2',
    ])
  })

  it('shows only the frames of a traceback whose first lines repeat the message, whatever its name or its lines', () => {
    const rec = new Recorder({ source: 'a', now: () => 0 })
    // A GrpcError recorded under its status, and an assertion whose message has several lines.
    rec.recordTest('error', 'Shop.test_get', { kind: 'UNAVAILABLE', message: '/shop.Shop/GetItem: UNAVAILABLE: refused', stack: 'GrpcError: /shop.Shop/GetItem: UNAVAILABLE: refused\n    at Shop.test_get (shop.ts:6:16)' })
    rec.recordTest('failure', 'Shop.test_eq', { kind: 'AssertionError', message: 'Expected values to be strictly equal:\n\n1 !== 2\n', stack: 'AssertionError [ERR_ASSERTION]: Expected values to be strictly equal:\n\n1 !== 2\n\n    at Shop.test_eq (shop.ts:9:5)\n    at run (shop.ts:20:3)' })
    // A stack of no frames at all is kept as it is.
    rec.recordTest('error', 'Shop.test_odd', { kind: 'Weird', message: 'odd', stack: 'no frames here' })
    const agg = new Aggregator({ startMs: 0 })
    agg.add(rec.snapshot(true))
    const out = formatSummary(agg.summary()).split('\n')
    const at = out.indexOf('Tracebacks (top 3):')
    expect(out.slice(at + 1, at + 8)).toEqual([
      '  [1] UNAVAILABLE: /shop.Shop/GetItem: UNAVAILABLE: refused  (1×, Shop.test_get)',
      '      at Shop.test_get (shop.ts:6:16)',
      '  [2] AssertionError: Expected values to be strictly equal:  (1×, Shop.test_eq)',
      '      at Shop.test_eq (shop.ts:9:5)',
      '      at run (shop.ts:20:3)',
      '  [3] Weird: odd  (1×, Shop.test_odd)',
      '      no frames here',
    ])
  })

  it('lists custom counters and extra lines before the result', () => {
    const withExtra = formatSummary(runSummary(), { extraLines: ['threshold p95<500: ok'] })
    expect(withExtra).toContain('Counters:\n  logins  42\n')
    expect(withExtra.trimEnd().split('\n').slice(-3)).toEqual([
      'threshold p95<500: ok',
      '',
      '<TestResult run=1003 errors=4 failures=2>',
    ])
  })

  it('has no escape codes unless color is asked for, and keeps the result line plain', () => {
    expect(text).not.toContain('\x1b')
    const colored = formatSummary(runSummary(), { color: true })
    expect(colored).toContain('\x1b[31m')
    expect(colored.trimEnd().split('\n').at(-1)).toBe('<TestResult run=1003 errors=4 failures=2>')
  })

  it('summarises an empty run without NaN', () => {
    const empty = formatSummary(new Aggregator({ startMs: 0 }).summary(0))
    expect(empty).not.toContain('NaN')
    expect(empty.trimEnd().split('\n').at(-1)).toBe('<TestResult run=0 errors=0 failures=0>')
  })
})

describe('number formats', () => {
  it('says how many connections were dropped for stray bytes, and nothing when none were', () => {
    expect(formatSummary(runSummary())).not.toContain('stray bytes')
    let now = 0
    const rec = new Recorder({ source: 'a', now: () => now })
    rec.recordHit('GET', '/', 200, 2000, 1000, 0, 10, 0, null)
    rec.recordStrayBytes()
    rec.recordStrayBytes()
    now = 1000
    const agg = new Aggregator({ startMs: 0 })
    agg.add(rec.snapshot(true))
    const summary = agg.summary()
    expect(summary.strayBytesDrops).toBe(2)
    expect(formatSummary(summary)).toContain('Connections dropped: stray bytes from the server: 2 (')
  })

  it('formats ms, durations and bytes for reading', () => {
    expect([formatMs(0.4567), formatMs(9.994), formatMs(12.34), formatMs(1234.5)]).toEqual(['0.46', '9.99', '12.3', '1235'])
    expect([formatDuration(850), formatDuration(12_345), formatDuration(123_000), formatDuration(3_723_000)])
      .toEqual(['850 ms', '12.35 s', '2m 03s', '1h 02m 03s'])
    expect([formatBytes(512), formatBytes(1234), formatBytes(45_600_000)]).toEqual(['512 B', '1.23 kB', '45.6 MB'])
  })
})
