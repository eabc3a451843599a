/**
 * Generator health: whether Loads itself kept up. Plain data, like the rest of stats/types.ts:
 * it crosses worker ports, the agents' binary codec (in its JSON head) and the saved result.
 */

/**
 * One source's health over one snapshot interval. A worker measures its own thread; an agent
 * merges its workers' samples: the busiest thread's utilisation (the one that distorts its
 * share of the latencies), the mean beside it, and the delay histograms added (exact).
 */
export interface GeneratorSample {
  /** Threads measured: 1 for a worker; an agent's workers that reported in the interval. */
  threads: number
  /** Event-loop utilisation over the interval, 0…1 (`performance.eventLoopUtilization`): the busiest thread's. */
  elu: number
  /** The threads' mean utilisation, 0…1. */
  eluMean: number
  /** The busiest thread's source (`worker-0`, `agent/worker-3`). */
  busiest: string
  /**
   * Event-loop delay: how late each tick of a 10 ms timer fired on each thread, µs — what
   * `monitorEventLoopDelay` measures, less its resolution — as an HDR histogram in the compact
   * wire form (a string: it travels in JSON). Adds exactly across threads, agents and seconds.
   */
  delay: string
  /** p99 and max of `delay`, ms. */
  delayP99Ms: number
  delayMaxMs: number
  /** The process's CPU time over the interval ÷ its length: 1 = one core busy (threads add up). */
  cpu: number
  /** The process's resident set size at the interval's end, bytes. */
  rssBytes: number
  /** The host's 1-minute load average (`os.loadavg()[0]`) and its cores, to read it against. */
  load1: number
  cores: number
}

/** A worker or agent that stayed over a generator-health bound (docs/generator-health.md). */
export interface GeneratorWarning {
  /** The snapshot source: `worker-1`, or an agent id. */
  source: string
  /** `elu`: utilisation ≥ its bound; `delay`: event-loop delay p99 ≥ its bound. */
  kind: 'elu' | 'delay'
  /** Seconds since the run started: the first and last second over the bound. */
  fromS: number
  toS: number
  /** The worst value seen in that stretch: a fraction for `elu`, ms for `delay`. */
  peak: number
  /** False while the source is still over the bound (mid-run). */
  over: boolean
}

/** One source's figures over the run. */
export interface GeneratorSourceSummary {
  source: string
  /** Threads behind it (the latest interval's). */
  threads: number
  /** Per-interval utilisation of the busiest thread, 0…1: max, p95 and mean over the run. */
  elu: { max: number; p95: number; mean: number }
  /** Event-loop delay over the run (every tick of every thread), ms. */
  delay: { p95: number; p99: number; max: number }
  /** Highest process CPU share (1 = one core), RSS (bytes) and host load seen. */
  cpuMax: number
  rssMaxBytes: number
  load1Max: number
  cores: number
}

/** The run's generator health: in the summary (console, JSON) and judged by thresholds. */
export interface GeneratorSummary {
  /** The whole generator: utilisation over every source's intervals, delay of every tick merged. */
  elu: { max: number; p95: number; mean: number }
  delay: { p95: number; p99: number; max: number }
  /** The worst source's p95 utilisation and p99 delay: what `generator_elu` / `generator_delay_p99` judge. */
  worstEluP95: number
  worstDelayP99: number
  sources: GeneratorSourceSummary[]
  warnings: GeneratorWarning[]
  /** The bounds the warnings used. */
  limits: GeneratorLimits
}

export interface GeneratorLimits {
  /** Utilisation warned at, 0…1. */
  elu: number
  /** Event-loop delay p99 warned at, ms. */
  delayMs: number
  /** How long a source must stay over a bound before it is warned about, ms. */
  sustainMs: number
}

/** The per-second view for the charts: column arrays on the run's time axis (`t`, seconds). */
export interface GeneratorSeries {
  t: number[]
  /** Busiest source's utilisation and mean over the sources, 0…1. */
  eluMax: number[]
  eluMean: number[]
  /** Highest per-source event-loop delay p99 of that second, ms. */
  delayP99Max: number[]
  /** Per source (the first `MAX_SERIES_SOURCES`): utilisation and delay p99, null where it did not report. */
  sources: { source: string; elu: (number | null)[]; delayP99: (number | null)[] }[]
}
