/**
 * Merging generator samples into one, as an agent merges its workers' snapshots: the busiest
 * thread's utilisation (a starved worker is starved whatever its neighbours do, and it is the
 * one whose latencies carry Loads' own queueing), the mean beside it, the delay histograms
 * added (exact: the delay of every tick of every thread), and the process's and host's gauges
 * at their highest (the workers of one agent share its process and host).
 */
import type { GeneratorSample } from './generator-types.js'
import { addEncoded, createHistogram, encodeWire, percentilesAndMean } from './histogram.js'

export class GeneratorMerge {
  readonly #delay = createHistogram()
  readonly #sources = new Set<string>()
  #merged: Omit<GeneratorSample, 'delay' | 'delayP99Ms' | 'delayMaxMs'> | undefined
  /** Σ eluMean × threads, for the mean over the threads. */
  #eluSum = 0
  #samples = 0

  /** Adds `sample`, which came from `source` (each source's threads count once per interval). */
  add(source: string, sample: GeneratorSample): void {
    addEncoded(this.#delay, sample.delay)
    this.#eluSum += sample.eluMean * sample.threads
    this.#samples += sample.threads
    const threads = this.#sources.has(source) ? 0 : sample.threads
    this.#sources.add(source)
    const m = this.#merged
    if (m === undefined) {
      const { delay: _d, delayP99Ms: _p, delayMaxMs: _m, ...rest } = sample
      this.#merged = { ...rest, threads }
      return
    }
    m.threads += threads
    if (sample.elu > m.elu) {
      m.elu = sample.elu
      m.busiest = sample.busiest
    }
    m.cpu = Math.max(m.cpu, sample.cpu)
    m.rssBytes = Math.max(m.rssBytes, sample.rssBytes)
    m.load1 = Math.max(m.load1, sample.load1)
    m.cores = Math.max(m.cores, sample.cores)
  }

  /** The merged sample of everything added since the last call; undefined when nothing was. */
  take(): GeneratorSample | undefined {
    const m = this.#merged
    if (m === undefined) return undefined
    const h = this.#delay
    const [p99 = 0] = percentilesAndMean(h, [99])
    const sample: GeneratorSample = {
      ...m,
      eluMean: this.#samples > 0 ? Math.round((this.#eluSum / this.#samples) * 10_000) / 10_000 : 0,
      delay: encodeWire(h),
      delayP99Ms: p99 / 1000,
      delayMaxMs: h.totalCount > 0 ? h.maxValue / 1000 : 0,
    }
    h.reset()
    this.#sources.clear()
    this.#merged = undefined
    this.#eluSum = 0
    this.#samples = 0
    return sample
  }
}
