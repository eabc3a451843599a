/**
 * The runner's view of the generator's health: every source's samples (a worker's, or an
 * agent's merged workers'), kept per source — utilisation and delay are gauges of a source, they
 * do not add up across sources — plus the delay histogram merged over everything (exact). It
 * says which source stayed over a bound and when, for the warnings and the thresholds.
 *
 * Bounds (docs/generator-health.md): utilisation ≥ 90%, or event-loop delay p99 ≥ 50 ms, in
 * every snapshot of a stretch of at least 5 s.
 */
import type {
  GeneratorLimits,
  GeneratorSample,
  GeneratorSeries,
  GeneratorSourceSummary,
  GeneratorSummary,
  GeneratorWarning,
} from './generator-types.js'
import { addEncoded, createHistogram, percentilesAndMean, type Histogram } from './histogram.js'

export const GENERATOR_LIMITS: GeneratorLimits = { elu: 0.9, delayMs: 50, sustainMs: 5000 }

/** Sources given a line of their own in the series (the others count in its max and mean). */
export const MAX_SERIES_SOURCES = 16

/** Seconds of series kept (the oldest go first): 24 h, as the latency series. */
const MAX_POINTS = 24 * 3600

/** Snapshots end on whole seconds, a timer's few ms apart: five of them cover 5 s less this. */
const SUSTAIN_SLACK_MS = 100

interface Stretch {
  startMs: number
  endMs: number
  fromS: number
  peak: number
  warning: GeneratorWarning | undefined
}

/** Utilisation counted in 1/1000ths: p95 over the run at that resolution, in 8 kB a source. */
class EluCounts {
  readonly counts = new Uint32Array(1001)
  n = 0
  sum = 0
  max = 0

  add(elu: number): void {
    const v = Math.min(1, Math.max(0, elu))
    this.counts[Math.round(v * 1000)]!++
    this.n++
    this.sum += v
    if (v > this.max) this.max = v
  }

  addAll(other: EluCounts): void {
    for (let i = 0; i < other.counts.length; i++) this.counts[i]! += other.counts[i]!
    this.n += other.n
    this.sum += other.sum
    this.max = Math.max(this.max, other.max)
  }

  stats(): { max: number; p95: number; mean: number } {
    if (this.n === 0) return { max: 0, p95: 0, mean: 0 }
    const needed = Math.max(1, Math.ceil(0.95 * this.n))
    let seen = 0
    let p95 = 0
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i]!
      if (seen >= needed) {
        p95 = i / 1000
        break
      }
    }
    return { max: this.max, p95, mean: round4(this.sum / this.n) }
  }
}

interface SourceState {
  source: string
  index: number
  threads: number
  cores: number
  lastSeq: number
  elu: EluCounts
  delay: Histogram
  cpuMax: number
  rssMaxBytes: number
  load1Max: number
  over: { elu: Stretch | undefined; delay: Stretch | undefined }
}

interface Point {
  t: number
  eluMax: number
  eluSum: number
  n: number
  delayP99Max: number
  /** By source index (< MAX_SERIES_SOURCES). */
  elu: (number | null)[]
  delayP99: (number | null)[]
}

export class GeneratorHealth {
  readonly #limits: GeneratorLimits
  readonly #sources = new Map<string, SourceState>()
  readonly #delay = createHistogram(true)
  readonly #points = new Map<number, Point>()
  readonly #warnings: GeneratorWarning[] = []

  constructor(limits: GeneratorLimits = GENERATOR_LIMITS) {
    this.#limits = limits
  }

  /** Whether any source has sent a sample. */
  get empty(): boolean {
    return this.#sources.size === 0
  }

  /**
   * Adds a source's sample for the interval [startMs, endMs]; `runStartMs` puts it on the run's
   * time axis (second `t` is the one its interval ended in, as the latency series).
   */
  add(source: string, seq: number, sample: GeneratorSample, interval: { startMs: number; endMs: number; runStartMs: number; final: boolean }): void {
    const s = this.#source(source)
    s.threads = sample.threads
    s.cores = sample.cores
    s.elu.add(sample.elu)
    addEncoded(s.delay, sample.delay)
    addEncoded(this.#delay, sample.delay)
    s.cpuMax = Math.max(s.cpuMax, sample.cpu)
    s.rssMaxBytes = Math.max(s.rssMaxBytes, sample.rssBytes)
    s.load1Max = Math.max(s.load1Max, sample.load1)

    const t = Math.max(0, Math.floor((interval.endMs - interval.runStartMs) / 1000))
    this.#point(t, s.index, sample)
    // Stretches follow a source's snapshots in order; one that arrives late counts in the
    // figures above but cannot extend or break a stretch.
    if (seq < s.lastSeq) return
    s.lastSeq = seq
    const fromS = Math.max(0, Math.floor((interval.startMs - interval.runStartMs) / 1000))
    s.over.elu = this.#track(s, 'elu', s.over.elu, sample.elu >= this.#limits.elu, sample.elu, interval, fromS, t)
    s.over.delay = this.#track(s, 'delay', s.over.delay, sample.delayP99Ms >= this.#limits.delayMs, sample.delayP99Ms, interval, fromS, t)
    if (interval.final) {
      s.over.elu = this.#track(s, 'elu', s.over.elu, false, 0, interval, fromS, t)
      s.over.delay = this.#track(s, 'delay', s.over.delay, false, 0, interval, fromS, t)
    }
  }

  #track(
    s: SourceState,
    kind: GeneratorWarning['kind'],
    stretch: Stretch | undefined,
    over: boolean,
    value: number,
    interval: { startMs: number; endMs: number },
    fromS: number,
    t: number,
  ): Stretch | undefined {
    if (!over) {
      if (stretch?.warning !== undefined) stretch.warning.over = false
      return undefined
    }
    const st = stretch ?? { startMs: interval.startMs, endMs: interval.endMs, fromS, peak: value, warning: undefined }
    st.endMs = Math.max(st.endMs, interval.endMs)
    st.peak = Math.max(st.peak, value)
    if (st.warning === undefined && st.endMs - st.startMs >= this.#limits.sustainMs - SUSTAIN_SLACK_MS) {
      st.warning = { source: s.source, kind, fromS: st.fromS, toS: t, peak: st.peak, over: true }
      this.#warnings.push(st.warning)
    } else if (st.warning !== undefined) {
      st.warning.toS = Math.max(st.warning.toS, t)
      st.warning.peak = st.peak
    }
    return st
  }

  /** Every stretch over a bound so far, in the order they began to count (copies). */
  warnings(): GeneratorWarning[] {
    return this.#warnings.map((w) => ({ ...w }))
  }

  /** The run's figures; undefined when no source measured its health (an older agent). */
  summary(): GeneratorSummary | undefined {
    if (this.#sources.size === 0) return undefined
    const all = new EluCounts()
    const sources: GeneratorSourceSummary[] = []
    for (const s of this.#sources.values()) {
      all.addAll(s.elu)
      sources.push({
        source: s.source,
        threads: s.threads,
        elu: s.elu.stats(),
        delay: delayStats(s.delay),
        cpuMax: s.cpuMax,
        rssMaxBytes: s.rssMaxBytes,
        load1Max: s.load1Max,
        cores: s.cores,
      })
    }
    sources.sort((a, b) => a.source.localeCompare(b.source, 'en', { numeric: true }))
    return {
      elu: all.stats(),
      delay: delayStats(this.#delay),
      worstEluP95: Math.max(...sources.map((s) => s.elu.p95)),
      worstDelayP99: Math.max(...sources.map((s) => s.delay.p99)),
      sources,
      warnings: this.warnings(),
      limits: { ...this.#limits },
    }
  }

  /** The per-second columns for the charts, oldest first; undefined before any sample. */
  series(): GeneratorSeries | undefined {
    if (this.#sources.size === 0) return undefined
    const points = [...this.#points.values()].sort((a, b) => a.t - b.t)
    const named = [...this.#sources.values()].filter((s) => s.index < MAX_SERIES_SOURCES)
    return {
      t: points.map((p) => p.t),
      eluMax: points.map((p) => p.eluMax),
      eluMean: points.map((p) => round4(p.eluSum / p.n)),
      delayP99Max: points.map((p) => p.delayP99Max),
      sources: named.map((s) => ({
        source: s.source,
        elu: points.map((p) => p.elu[s.index] ?? null),
        delayP99: points.map((p) => p.delayP99[s.index] ?? null),
      })),
    }
  }

  #point(t: number, index: number, sample: GeneratorSample): void {
    let p = this.#points.get(t)
    if (p === undefined) {
      p = { t, eluMax: 0, eluSum: 0, n: 0, delayP99Max: 0, elu: [], delayP99: [] }
      this.#points.set(t, p)
      if (this.#points.size > MAX_POINTS) this.#points.delete(Math.min(...this.#points.keys()))
    }
    p.eluMax = Math.max(p.eluMax, sample.elu)
    p.eluSum += sample.elu
    p.n++
    p.delayP99Max = Math.max(p.delayP99Max, sample.delayP99Ms)
    if (index < MAX_SERIES_SOURCES) {
      // Two snapshots of one source in one second (a short first or last one): the higher.
      p.elu[index] = Math.max(p.elu[index] ?? 0, sample.elu)
      p.delayP99[index] = Math.max(p.delayP99[index] ?? 0, sample.delayP99Ms)
    }
  }

  #source(source: string): SourceState {
    let s = this.#sources.get(source)
    if (s === undefined) {
      s = {
        source, index: this.#sources.size, threads: 0, cores: 0, lastSeq: -1,
        elu: new EluCounts(), delay: createHistogram(true),
        cpuMax: 0, rssMaxBytes: 0, load1Max: 0,
        over: { elu: undefined, delay: undefined },
      }
      this.#sources.set(source, s)
    }
    return s
  }
}

function delayStats(h: Histogram): { p95: number; p99: number; max: number } {
  if (h.totalCount === 0) return { p95: 0, p99: 0, max: 0 }
  const [p95 = 0, p99 = 0] = percentilesAndMean(h, [95, 99])
  return { p95: p95 / 1000, p99: p99 / 1000, max: h.maxValue / 1000 }
}

function round4(x: number): number {
  return Math.round(x * 10_000) / 10_000
}
