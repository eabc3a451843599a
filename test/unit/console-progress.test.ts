import { describe, it, expect } from 'vitest'
import { Writable } from 'node:stream'
import { ProgressReporter } from '../../src/report/console/progress.js'
import type { LiveView } from '../../src/stats/types.js'

function sink(): { stream: Writable; chunks: string[] } {
  const chunks: string[] = []
  const stream = new Writable({
    write(chunk: Buffer | string, _enc, cb) {
      chunks.push(String(chunk))
      cb()
    },
  })
  return { stream, chunks }
}

function live(run: number, over: Partial<LiveView> = {}): LiveView {
  return {
    elapsedMs: 0, hits: 1234, hitsPerSec: 5678.4, networkErrors: 0,
    tests: { run, failures: 0, errors: 0 }, activeUsers: 10, step: 0, sources: 1, finishedSources: 0,
    ...over,
  }
}

describe('ProgressReporter on a terminal', () => {
  it('redraws one line in place, at most every 100 ms', () => {
    const { stream, chunks } = sink()
    let now = 0
    const p = new ProgressReporter({ stream, isTTY: true, total: 1000, columns: 100, now: () => now })
    p.update(live(420))
    now = 50
    p.update(live(430)) // too soon: skipped
    now = 120
    p.update(live(440))
    expect(chunks).toHaveLength(2)
    const first = chunks[0]!
    expect(first.startsWith('\r[')).toBe(true)
    expect(first.endsWith('\x1b[K')).toBe(true)
    expect(first).toContain('  42%  1234 hits  5678 hits/s  run=420 errors=0 failures=0')
    expect(first).not.toContain('\n')
    // Never wider than the terminal, or the line would wrap and \r would no longer erase it.
    expect(first.length - '\r'.length - '\x1b[K'.length).toBeLessThan(100)
    const bar = /\[(=*)( *)\]/.exec(first)!
    const width = bar[1]!.length + bar[2]!.length
    expect(bar[1]!.length).toBe(Math.round(width * 0.42))
    expect(chunks[1]).toContain(' 44%')
  })

  it('ends with a full bar at 100% and a newline', () => {
    const { stream, chunks } = sink()
    const p = new ProgressReporter({ stream, isTTY: true, total: 1000, now: () => 0 })
    p.update(live(420))
    p.done(live(1000))
    p.update(live(1000)) // ignored after done
    expect(chunks).toHaveLength(3)
    expect(chunks[1]).toMatch(/^\r\[=+\] {2}100% {2}1234 hits {2}5678 hits\/s {2}run=1000 errors=0 failures=0\x1b\[K$/)
    expect(chunks[2]).toBe('\n')
  })

  it('adapts the bar to narrow terminals and drops it when there is no room', () => {
    const { stream, chunks } = sink()
    const p = new ProgressReporter({ stream, isTTY: true, total: 100, columns: 80, now: () => 0 })
    p.update(live(50))
    expect(chunks[0]!.startsWith('\r[')).toBe(true)
    expect(chunks[0]!.length - 4).toBeLessThan(80)
    const narrow = sink()
    const q = new ProgressReporter({ stream: narrow.stream, isTTY: true, total: 100, columns: 60, now: () => 0 })
    q.update(live(50))
    expect(narrow.chunks[0]!.startsWith('\r 50%')).toBe(true)
    expect(narrow.chunks[0]!.length - 4).toBeLessThan(60)
  })

  it('uses elapsed time against the planned duration when the run is bounded by time', () => {
    const { stream, chunks } = sink()
    const p = new ProgressReporter({ stream, isTTY: true, durationMs: 60_000, now: () => 0 })
    p.update(live(3, { elapsedMs: 15_000 }))
    expect(chunks[0]).toContain(' 25%')
  })
})

describe('ProgressReporter off a terminal', () => {
  it('writes a plain line every 5 seconds, with no control characters', () => {
    const { stream, chunks } = sink()
    let now = 0
    const p = new ProgressReporter({ stream, isTTY: false, total: 1000, now: () => now })
    for (let t = 0; t <= 12_000; t += 100) {
      now = t
      p.update(live(420))
    }
    p.done(live(1000))
    expect(chunks).toEqual([
      'progress: 42% 1234 hits 5678 hits/s run=420 errors=0 failures=0\n',
      'progress: 42% 1234 hits 5678 hits/s run=420 errors=0 failures=0\n',
      'progress: 42% 1234 hits 5678 hits/s run=420 errors=0 failures=0\n',
      'progress: 100% 1234 hits 5678 hits/s run=1000 errors=0 failures=0\n',
    ])
  })

  it('omits the percentage when neither a total nor a duration is known', () => {
    const { stream, chunks } = sink()
    const p = new ProgressReporter({ stream, isTTY: false, now: () => 0 })
    p.update(live(7))
    expect(chunks).toEqual(['progress: 1234 hits 5678 hits/s run=7 errors=0 failures=0\n'])
  })
})

describe('ProgressReporter quiet', () => {
  it('prints nothing at all', () => {
    const { stream, chunks } = sink()
    const p = new ProgressReporter({ stream, isTTY: true, total: 10, quiet: true })
    p.update(live(5))
    p.done(live(10))
    expect(chunks).toEqual([])
  })
})
