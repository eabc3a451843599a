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
    expect(first).toContain('  42%  1234 hits  5678 hits/s now  run=420 errors=0 failures=0')
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
    expect(chunks[1]).toMatch(/^\r\[=+\] {2}100% {2}1234 hits {2}5678 hits\/s avg {2}run=1000 errors=0 failures=0\x1b\[K$/)
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
      'progress: 42% 1234 hits 5678 hits/s now run=420 errors=0 failures=0\n',
      'progress: 42% 1234 hits 5678 hits/s now run=420 errors=0 failures=0\n',
      'progress: 42% 1234 hits 5678 hits/s now run=420 errors=0 failures=0\n',
      'progress: 100% 1234 hits 5678 hits/s avg run=1000 errors=0 failures=0\n',
    ])
  })

  it('omits the percentage when neither a total nor a duration is known', () => {
    const { stream, chunks } = sink()
    const p = new ProgressReporter({ stream, isTTY: false, now: () => 0 })
    p.update(live(7))
    expect(chunks).toEqual(['progress: 1234 hits 5678 hits/s now run=7 errors=0 failures=0\n'])
  })
})

describe('ProgressReporter: one final line, rates labelled, agents awaited', () => {
  it('says 100% once, on the final line, with the whole run\'s rate (the summary\'s)', () => {
    const { stream, chunks } = sink()
    let now = 0
    const p = new ProgressReporter({ stream, isTTY: false, total: 1, now: () => now })
    p.update(live(0, { hits: 0, hitsPerSec: 0 }))
    now = 6000
    p.update(live(1, { hits: 1, hitsPerSec: 0.5 })) // at 100%: left to the final line
    p.done(live(1, { hits: 1, hitsPerSec: 0.5, elapsedMs: 800 }), false, 1.15)
    expect(chunks).toEqual([
      'progress: 0% 0 hits 0 hits/s now run=0 errors=0 failures=0\n',
      'progress: 100% 1 hits 1 hits/s avg run=1 errors=0 failures=0\n',
    ])
  })

  it('without the summary\'s rate, the final line averages hits over the elapsed time', () => {
    const { stream, chunks } = sink()
    const p = new ProgressReporter({ stream, isTTY: false, total: 10, now: () => 0 })
    p.done(live(10, { hits: 500, hitsPerSec: 9999, elapsedMs: 2000 }))
    expect(chunks).toEqual(['progress: 100% 500 hits 250 hits/s avg run=10 errors=0 failures=0\n'])
  })

  it('while a cluster run\'s agents boot, says it waits for them instead of 0 hits', () => {
    const { stream, chunks } = sink()
    let now = 0
    const p = new ProgressReporter({ stream, isTTY: false, durationMs: 60_000, agents: 5, now: () => now })
    p.update(live(0, { hits: 0, hitsPerSec: 0, sources: 0, elapsedMs: 8000 }))
    now = 5000
    p.update(live(0, { hits: 0, hitsPerSec: 0, sources: 3, elapsedMs: 13_000 }))
    now = 10_000
    p.update(live(4, { hits: 40, hitsPerSec: 20, sources: 5, elapsedMs: 18_000 }))
    expect(chunks).toEqual([
      'progress: waiting for 5 of 5 agents to report\n',
      'progress: waiting for 2 of 5 agents to report\n',
      'progress: 30% 40 hits 20 hits/s now run=4 errors=0 failures=0\n',
    ])
    const tty = sink()
    const q = new ProgressReporter({ stream: tty.stream, isTTY: true, total: 100, agents: 1, now: () => 0 })
    q.update(live(0, { hits: 0, sources: 0 }))
    expect(tty.chunks).toEqual(['\rwaiting for 1 of 1 agent to report\x1b[K'])
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
