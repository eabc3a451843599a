import { readFileSync } from 'node:fs'
import { monitorEventLoopDelay, performance } from 'node:perf_hooks'
import { Ajv2020 } from 'ajv/dist/2020.js'
import type { JsHistogram } from 'hdr-histogram-js'
import { describe, expect, it } from 'vitest'
import { decodeSnapshotMessage, encodeSnapshotMessage } from '../../src/cluster/snapshot-codec.js'
import { Writable } from 'node:stream'
import { ConsoleReporter } from '../../src/report/console/console-reporter.js'
import { formatSummary } from '../../src/report/console/summary.js'
import { buildResult, runMeta } from '../../src/report/result.js'
import { judgeThresholds } from '../../src/report/thresholds/judge.js'
import { parseThreshold, parseThresholds } from '../../src/report/thresholds/threshold.js'
import { GeneratorProbe } from '../../src/runner/generator-probe.js'
import { Aggregator } from '../../src/stats/aggregator.js'
import { GeneratorHealth } from '../../src/stats/generator-health.js'
import type { GeneratorSample } from '../../src/stats/generator-types.js'
import { addEncoded, createHistogram, encodeWire, latencyStats } from '../../src/stats/histogram.js'
import { Recorder } from '../../src/stats/recorder.js'
import { SnapshotMerger } from '../../src/stats/snapshot-merge.js'
import type { Snapshot } from '../../src/stats/types.js'

const T0 = 1_700_000_000_000

/** A sample whose delay histogram holds `delaysMs` (one per tick). */
function sample(source: string, elu: number, delaysMs: number[], extra: Partial<GeneratorSample> = {}): GeneratorSample {
  const h = createHistogram()
  for (const d of delaysMs) h.recordValue(Math.round(d * 1000))
  const stats = latencyStats(h)
  return {
    threads: 1, elu, eluMean: elu, busiest: source, delay: encodeWire(h), delayP99Ms: stats.p99, delayMaxMs: stats.max,
    cpu: 0.5, rssBytes: 50e6, load1: 1.5, cores: 2, ...extra,
  }
}

/** A worker's snapshot of second `s` (no hits) carrying `generator`. */
function snap(source: string, s: number, generator: GeneratorSample | undefined, final = false): Snapshot {
  return {
    v: 1, source, seq: s, startMs: T0 + s * 1000, endMs: T0 + (s + 1) * 1000, step: 0, activeUsers: 1,
    tests: { run: 0, failures: 0, errors: 0 }, endpoints: [], latency: '', errors: [], counters: {},
    ...(generator !== undefined ? { generator } : {}), final,
  }
}

/** Ticks of `h` at least `us` late. */
function ticksAtLeast(h: ReturnType<typeof createHistogram>, us: number): number {
  const j = h as unknown as JsHistogram
  let n = 0
  for (let i = j.countsArrayIndex(us); i < j.countsArrayLength; i++) n += j.getCountAtIndex(i)
  return n
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))
function burn(ms: number): void {
  const end = performance.now() + ms
  while (performance.now() < end);
}

describe('the generator probe', () => {
  it('measures the delay monitorEventLoopDelay measures (less its 10 ms resolution): as many ticks, every block seen', async () => {
    const probe = new GeneratorProbe('worker-0')
    const eld = monitorEventLoopDelay({ resolution: 10 })
    eld.enable()
    probe.sample()
    // Blocks of 40, 80 and 120 ms between idle stretches: the delays a starved loop shows.
    for (const ms of [40, 80, 120, 40, 80, 120]) {
      await sleep(60)
      burn(ms)
    }
    await sleep(60)
    eld.disable()
    const s = probe.sample()
    probe.stop()
    // The same kind of timer at the same period: as many ticks, and each block of D ms seen as a
    // tick at least D − 10 ms late (the tick was due up to a period after the block began; a
    // preemption by a loaded machine only adds to a delay).
    // Medians and maxima are not compared with each other: when the machine starves the thread they differ by
    // which of the two callbacks a preemption lands before.
    const mine = createHistogram()
    addEncoded(mine, s.delay)
    expect(Math.abs(mine.totalCount - eld.count)).toBeLessThanOrEqual(5)
    for (const [ms, blocks] of [[28, 6], [68, 4], [108, 2]] as const) {
      expect(ticksAtLeast(mine, ms * 1000), `mine ≥ ${ms} ms`).toBeGreaterThanOrEqual(blocks)
    }
    expect(eld.max / 1e6 - 10).toBeGreaterThanOrEqual(108)
    expect(s.delayMaxMs).toBeGreaterThanOrEqual(108)
    expect(s.threads).toBe(1)
    expect(s.busiest).toBe('worker-0')
  })

  it("measures this thread's utilisation: ~40% busy reads ~0.4", async () => {
    const probe = new GeneratorProbe('worker-0')
    probe.sample()
    for (let i = 0; i < 5; i++) {
      burn(80)
      await sleep(120)
    }
    const s = probe.sample()
    probe.stop()
    // Busy 400 of ~1000 ms (a loaded machine stretches both the busy and the idle parts).
    expect(s.elu).toBeGreaterThan(0.25)
    expect(s.elu).toBeLessThan(0.75)
    expect(s.cpu).toBeGreaterThan(0)
    expect(s.rssBytes).toBeGreaterThan(10e6)
    expect(s.cores).toBeGreaterThanOrEqual(1)
  })
})

describe("an agent's merged generator sample", () => {
  const w0 = sample('agent-1/worker-0', 0.95, [1, 2, 3, 70])
  const w1 = sample('agent-1/worker-1', 0.35, [0.5, 0.5, 12], { cpu: 1.4, rssBytes: 80e6, load1: 3 })

  function agentSnapshot(): Snapshot {
    const merger = new SnapshotMerger('agent-1', 2)
    const recs = [0, 1].map((w) => new Recorder({ source: `agent-1/worker-${w}`, now: () => T0 + 1000 }))
    const [a, b] = recs.map((r) => r.snapshot(false)) as [Snapshot, Snapshot]
    merger.add({ ...a, generator: w0 })
    merger.add({ ...b, generator: w1 })
    return merger.take()!
  }

  it('keeps the busiest worker, the mean, every tick of both delay histograms and the highest gauges', () => {
    const g = agentSnapshot().generator!
    expect(g).toMatchObject({ threads: 2, elu: 0.95, eluMean: 0.65, busiest: 'agent-1/worker-0', cpu: 1.4, rssBytes: 80e6, load1: 3, cores: 2 })
    const both = createHistogram()
    addEncoded(both, w0.delay)
    addEncoded(both, w1.delay)
    const merged = createHistogram()
    addEncoded(merged, g.delay)
    expect(merged.totalCount).toBe(7)
    expect(latencyStats(merged)).toEqual(latencyStats(both))
    expect(g.delayMaxMs).toBe(latencyStats(both).max)
  })

  it('crosses the binary codec unchanged, and the runner keeps it under the agent', () => {
    const s = agentSnapshot()
    const back = decodeSnapshotMessage(encodeSnapshotMessage({ type: 'run.snapshot', runId: 'r', agentId: 'agent-1', snapshot: s }))!.snapshot
    expect(back.generator).toEqual(s.generator)
    const a = new Aggregator({ startMs: T0 })
    a.add(back)
    const g = a.summary().generator!
    expect(g.sources.map((x) => x.source)).toEqual(['agent-1'])
    expect(g.sources[0]).toMatchObject({ threads: 2, elu: { max: 0.95, p95: 0.95 }, cpuMax: 1.4, load1Max: 3 })
    expect(g.delay.max).toBeCloseTo(70, 1)
  })

  it('is absent when no worker measured (an older worker): nothing invented', () => {
    const merger = new SnapshotMerger('agent-1', 1)
    merger.add(new Recorder({ source: 'agent-1/worker-0' }).snapshot(false))
    expect(merger.take()!.generator).toBeUndefined()
  })
})

describe('generator health over a run', () => {
  it('warns about a source over a bound for 5 s, names it and the seconds, and not a source over it for 4 s', () => {
    const health = new GeneratorHealth()
    const add = (source: string, s: number, g: GeneratorSample, final = false): void =>
      health.add(source, s, g, { startMs: T0 + s * 1000, endMs: T0 + (s + 1) * 1000, runStartMs: T0, final })
    for (let s = 0; s < 10; s++) {
      add('worker-0', s, sample('worker-0', s >= 2 && s < 8 ? 0.97 : 0.3, [1]))
      add('worker-1', s, sample('worker-1', s < 4 ? 0.99 : 0.2, s >= 3 ? [60, 61, 62] : [1]), s === 9)
    }
    // Seconds on the run's axis: worker-0 was over from the start of second 2 to the end of second 7.
    const warnings = health.warnings()
    expect(warnings).toEqual([
      { source: 'worker-0', kind: 'elu', fromS: 2, toS: 8, peak: 0.97, over: false },
      { source: 'worker-1', kind: 'delay', fromS: 3, toS: 10, peak: expect.closeTo(62, 1) as number, over: false },
    ])
    const summary = health.summary()!
    expect(summary.worstEluP95).toBe(0.99)
    expect(summary.sources.map((s) => s.source)).toEqual(['worker-0', 'worker-1'])
    const series = health.series()!
    expect(series.t).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
    expect(series.eluMax[4]).toBe(0.97)
    expect(series.eluMean[4]).toBe(0.585)
    expect(series.sources[1]!.delayP99[9]).toBeCloseTo(62, 1)
  })

  it('says a source is still over while it is, then when it came back', () => {
    const health = new GeneratorHealth()
    for (let s = 0; s < 6; s++) health.add('a', s, sample('a', 1, [1]), { startMs: T0 + s * 1000, endMs: T0 + (s + 1) * 1000, runStartMs: T0, final: false })
    expect(health.warnings()).toEqual([{ source: 'a', kind: 'elu', fromS: 0, toS: 6, peak: 1, over: true }])
    health.add('a', 6, sample('a', 0.1, [1]), { startMs: T0 + 6000, endMs: T0 + 7000, runStartMs: T0, final: false })
    expect(health.warnings()[0]!.over).toBe(false)
  })

  it('prints a Generator line, a line per worker when one stands out, and each warning with what to do', () => {
    const a = new Aggregator({ startMs: T0 })
    for (let s = 0; s < 7; s++) {
      a.add(snap('worker-0', s, sample('worker-0', 1, [80, 90, 95])))
      a.add(snap('worker-1', s, sample('worker-1', 0.1, [1, 1, 2])))
    }
    const text = formatSummary(a.summary())
    expect(text).toMatch(/^Generator: event-loop utilisation max 100% p95 100%, delay p95 [\d.]+ ms p99 [\d.]+ ms max 95\.0 ms \(2 sources; process CPU max 0\.50 cores, RSS max 50\.0 MB, host load 1\.50 on 2 cores\)$/m)
    expect(text).toMatch(/^ {2}worker-0 {2}utilisation max 100% p95 100%, delay p99 95\.0 ms/m)
    expect(text).toMatch(/^ {2}worker-1 {2}utilisation max 10% p95 10%/m)
    expect(text).toContain('  WARNING worker-0: event-loop utilisation ≥ 90% since 0 s (7 s, peak 100%)')
    expect(text).toContain('  WARNING worker-0: event-loop delay p99 ≥ 50 ms since 0 s (7 s, peak 95.0 ms)')
    expect(text).toContain("latencies may include Loads' own queueing: add workers (-w), agents, or reduce think-free users")
    expect(text).not.toMatch(/WARNING worker-1/)
  })

  it('prints no per-worker lines and no warning when no one stands out', () => {
    const a = new Aggregator({ startMs: T0 })
    for (let s = 0; s < 7; s++) for (const w of ['worker-0', 'worker-1']) a.add(snap(w, s, sample(w, 0.2, [1, 2])))
    const text = formatSummary(a.summary())
    expect(text).toMatch(/^Generator: /m)
    expect(text).not.toMatch(/^ {2}worker-/m)
    expect(text).not.toContain('WARNING')
  })
})

describe('the console during the run', () => {
  it('prints a warning once, as soon as a worker has stayed over a bound for 5 s; on a terminal over the progress line', () => {
    for (const isTTY of [false, true]) {
      const chunks: string[] = []
      const stream = new Writable({ write: (c: Buffer | string, _e, cb) => (chunks.push(String(c)), cb()) })
      const reporter = new ConsoleReporter({ stream, isTTY, quiet: false })
      const a = new Aggregator({ startMs: T0 })
      const warningsAfter: number[] = []
      for (let s = 0; s < 8; s++) {
        const snapshot = snap('worker-0', s, sample('worker-0', 0.99, [1]))
        a.add(snapshot)
        reporter.onSnapshot(snapshot, a)
        warningsAfter.push(chunks.join('').split('warning: ').length - 1)
      }
      // Snapshots 0…4 cover 5 s: the warning comes with the fifth, and only once.
      expect(warningsAfter).toEqual([0, 0, 0, 0, 1, 1, 1, 1])
      const line = chunks.find((c) => c.includes('warning: '))!
      expect(line).toBe(`${isTTY ? '\r\x1b[K' : ''}warning: worker-0: event-loop utilisation ≥ 90% since 0 s (5 s, peak 99%): latencies may include Loads' own queueing: add workers (-w), agents, or reduce think-free users\n`)
      reporter.onRunEnd({ summary: a.summary(), exitCode: 0, interrupted: false, notes: [] }, a)
    }
  })
})

describe('generator thresholds', () => {
  it('parse generator_elu as a share and generator_delay_p99 as a duration, and refuse the rest', () => {
    expect(parseThreshold('generator_elu<90%')).toMatchObject({ metric: 'generator_elu', limit: 0.9, unit: 'share' })
    expect(parseThreshold('generator_elu<0.8')).toMatchObject({ limit: 0.8, unit: 'share' })
    expect(parseThreshold('generator_delay_p99<10ms')).toMatchObject({ metric: 'generator_delay_p99', limit: 10, unit: 'ms' })
    expect(parseThreshold('generator_delay_p99<0.5s')).toMatchObject({ limit: 500, unit: 'ms' })
    expect(() => parseThreshold('generator_elu<90')).toThrow(/generator_elu takes a share/)
    expect(() => parseThreshold('generator_delay_p99<10%')).toThrow(/takes a duration/)
    expect(() => parseThreshold('/x:generator_elu<90%')).toThrow(/drop the "NAME:" part/)
  })

  it('judge the worst source, name it, and fail a result without figures', () => {
    const a = new Aggregator({ startMs: T0 })
    for (let s = 0; s < 20; s++) {
      a.add(snap('worker-0', s, sample('worker-0', 0.5, [2, 3])))
      a.add(snap('worker-1', s, sample('worker-1', s < 1 ? 0.99 : 0.92, [4, 12])))
    }
    const summary = a.summary()
    const results = judgeThresholds(parseThresholds(['generator_elu<90%', 'generator_elu<95%', 'generator_delay_p99<10ms', 'generator_delay_p99<20ms']), summary)
    expect(results.map((r) => [r.pass, r.measuredText])).toEqual([
      [false, '92.0% (worker-1, the worst of 2)'],
      [true, '92.0% (worker-1, the worst of 2)'],
      [false, '12.0 ms (worker-1, the worst of 2)'],
      [true, '12.0 ms (worker-1, the worst of 2)'],
    ])
    const { generator: _g, ...old } = summary
    const none = judgeThresholds([parseThreshold('generator_elu<90%')], old)[0]!
    expect(none.pass).toBe(false)
    expect(none.measured).toBeNull()
  })
})

describe('the saved result', () => {
  it('carries the generator summary and series, and matches the JSON Schema', () => {
    const a = new Aggregator({ startMs: T0 })
    for (let s = 0; s < 6; s++) a.add(snap('worker-0', s, sample('worker-0', 0.95, [3, 60]), s === 5))
    a.add(snap('worker-1', 0, undefined))
    const summary = a.summary()
    const run = runMeta({ runId: 'r', address: 'm.C.t', tests: [], plan: { steps: [{ users: 1, hits: 1 }] }, mode: 'local', workers: 2, startMs: T0 })
    const result = buildResult(run, { summary, exitCode: 4, interrupted: false, notes: [], thresholds: [] }, a, '0.0.0')
    expect(result.summary.generator?.warnings).toHaveLength(2)
    expect(result.generatorSeries?.t).toEqual([1, 2, 3, 4, 5, 6])
    const schema = JSON.parse(readFileSync(new URL('../../schema/loads-result.schema.json', import.meta.url), 'utf8')) as object
    const validate = new Ajv2020({ allErrors: true }).compile(schema)
    const json = JSON.parse(JSON.stringify(result)) as unknown
    expect(validate(json), JSON.stringify(validate.errors)).toBe(true)
  })
})
