/**
 * Measures one thread's health as a load generator, for its snapshots: event-loop utilisation,
 * event-loop delay, the process's CPU share and RSS, the host's load.
 *
 * The delay is measured as `monitorEventLoopDelay` does — how late a periodic timer fires — but
 * by a JS timer recording into the stats layer's HDR layout, so that it merges exactly across
 * threads, agents and seconds (Node's histogram cannot be exported bucket by bucket). The two
 * agree within a tick's rounding (test/unit/generator-health.test.ts). Cost: one timer callback
 * every `tickMs` (~1 µs) and a few system calls per snapshot: bench/generator-probe.mjs.
 */
import os from 'node:os'
import { performance, type EventLoopUtilization } from 'node:perf_hooks'
import type { GeneratorSample } from '../stats/generator-types.js'
import { BucketCounts, createHistogram, encodeWire, percentilesAndMean } from '../stats/histogram.js'

/** The delay timer's period: the default resolution of `monitorEventLoopDelay`. */
export const DELAY_TICK_MS = 10

export class GeneratorProbe {
  readonly #counts = new BucketCounts()
  readonly #histogram = createHistogram()
  readonly #timer: NodeJS.Timeout
  #lastTickMs = performance.now()
  #elu: EventLoopUtilization = performance.eventLoopUtilization()
  #cpu = process.cpuUsage()
  #sampledMs = performance.now()

  /** @param source the thread's snapshot source, named as the busiest thread of its samples. */
  constructor(
    readonly source: string,
    private readonly tickMs = DELAY_TICK_MS,
  ) {
    this.#timer = setInterval(() => this.#tick(), tickMs)
    // A measurement never keeps a worker alive.
    this.#timer.unref()
  }

  #tick(): void {
    const now = performance.now()
    this.#counts.record((now - this.#lastTickMs - this.tickMs) * 1000)
    this.#lastTickMs = now
  }

  /** The thread's figures since the previous call (or since construction). */
  sample(): GeneratorSample {
    const nowMs = performance.now()
    const elu = performance.eventLoopUtilization()
    const utilization = performance.eventLoopUtilization(elu, this.#elu).utilization
    this.#elu = elu
    const cpu = process.cpuUsage()
    const cpuUs = cpu.user - this.#cpu.user + (cpu.system - this.#cpu.system)
    this.#cpu = cpu
    const wallMs = nowMs - this.#sampledMs
    this.#sampledMs = nowMs
    const h = this.#histogram
    h.reset()
    this.#counts.drainInto(h)
    const [p99 = 0] = percentilesAndMean(h, [99])
    const sample: GeneratorSample = {
      threads: 1,
      elu: round4(utilization),
      eluMean: round4(utilization),
      busiest: this.source,
      delay: encodeWire(h),
      delayP99Ms: p99 / 1000,
      delayMaxMs: h.totalCount > 0 ? h.maxValue / 1000 : 0,
      cpu: wallMs > 0 ? round4(cpuUs / 1000 / wallMs) : 0,
      rssBytes: process.memoryUsage.rss(),
      load1: round4(os.loadavg()[0] ?? 0),
      cores: os.availableParallelism(),
    }
    return sample
  }

  stop(): void {
    clearInterval(this.#timer)
  }
}

function round4(x: number): number {
  return Math.round(x * 10_000) / 10_000
}
