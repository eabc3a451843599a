/**
 * Comparing two runs (`loads report base.json current.json`): the change of every URL's rate,
 * percentiles and failed-hit share, with regressions flagged. Plain data, no Node.js imports:
 * the front end draws it as it is.
 */
import type { EndpointSummary, RunSummary } from '../../stats/types.js'
import { failedHits } from '../thresholds/judge.js'

export interface CompareOptions {
  /**
   * Relative change tolerated before a change is a regression: 0.1 = latency 10% higher or
   * rate 10% lower. Latencies must also be 1 ms worse, so sub-millisecond noise is not flagged.
   */
  tolerance: number
}

export const DEFAULT_COMPARE_OPTIONS: CompareOptions = { tolerance: 0.1 }

/** A figure in both runs; `change` is current − base, `ratio` is change / base (null if base is 0). */
export interface Delta {
  base: number | null
  current: number | null
  change: number | null
  ratio: number | null
}

export type Metric = 'hitsPerSec' | 'p50' | 'p95' | 'p99' | 'failedShare'

export interface FigureSet {
  hits: Delta
  hitsPerSec: Delta
  p50: Delta
  p95: Delta
  p99: Delta
  /** Hits that failed on the network or got a status ≥ 400, as a share of hits (0.01 = 1%). */
  failedShare: Delta
}

export interface EndpointComparison extends FigureSet {
  method: string
  name: string
  /** `both`, only in the base run (`gone`) or only in the current one (`new`). */
  presence: 'both' | 'gone' | 'new'
  /** The figures that got worse beyond the tolerance, e.g. ['p95', 'failedShare']. */
  regressions: Metric[]
}

export interface Comparison {
  options: CompareOptions
  overall: FigureSet & { regressions: Metric[] }
  endpoints: EndpointComparison[]
  /** Endpoints with at least one regression, plus the overall figures if they regressed. */
  regressionCount: number
}

/** Failed-hit share increases beyond this many percentage points count as regressions. */
const FAILED_SHARE_POINTS = 0.01
const LATENCY_FLOOR_MS = 1

export function compareRuns(base: RunSummary, current: RunSummary, options: CompareOptions = DEFAULT_COMPARE_OPTIONS): Comparison {
  const overall = figures(totals(base), totals(current))
  const overallRegressions = regressionsOf(overall, options)
  const byKey = new Map<string, { base?: EndpointSummary; current?: EndpointSummary }>()
  for (const e of base.endpoints) byKey.set(key(e), { base: e })
  for (const e of current.endpoints) byKey.set(key(e), { ...byKey.get(key(e)), current: e })
  const endpoints = [...byKey.values()].map(({ base: b, current: c }) => {
    const any = (c ?? b)!
    const f = figures(b === undefined ? undefined : fromEndpoint(b), c === undefined ? undefined : fromEndpoint(c))
    const presence = b === undefined ? 'new' : c === undefined ? 'gone' : 'both'
    return { method: any.method, name: any.name, presence, ...f, regressions: presence === 'both' ? regressionsOf(f, options) : [] } satisfies EndpointComparison
  })
  // Regressions first, then the busiest.
  endpoints.sort((a, b) => b.regressions.length - a.regressions.length || (b.hits.current ?? b.hits.base ?? 0) - (a.hits.current ?? a.hits.base ?? 0))
  return {
    options,
    overall: { ...overall, regressions: overallRegressions },
    endpoints,
    regressionCount: endpoints.filter((e) => e.regressions.length > 0).length + (overallRegressions.length > 0 ? 1 : 0),
  }
}

interface Figures {
  hits: number
  hitsPerSec: number
  p50: number
  p95: number
  p99: number
  failedShare: number
}

function totals(s: RunSummary): Figures {
  const failed = s.endpoints.reduce((n, e) => n + failedHits(e), 0)
  return { hits: s.hits, hitsPerSec: s.hitsPerSec, p50: s.latency.p50, p95: s.latency.p95, p99: s.latency.p99, failedShare: s.hits > 0 ? failed / s.hits : 0 }
}

function fromEndpoint(e: EndpointSummary): Figures {
  return { hits: e.hits, hitsPerSec: e.hitsPerSec, p50: e.latency.p50, p95: e.latency.p95, p99: e.latency.p99, failedShare: e.hits > 0 ? failedHits(e) / e.hits : 0 }
}

function figures(b: Figures | undefined, c: Figures | undefined): FigureSet {
  const d = (k: keyof Figures): Delta => {
    const base = b?.[k] ?? null
    const current = c?.[k] ?? null
    const change = base !== null && current !== null ? current - base : null
    return { base, current, change, ratio: change !== null && base !== null && base !== 0 ? change / base : null }
  }
  return { hits: d('hits'), hitsPerSec: d('hitsPerSec'), p50: d('p50'), p95: d('p95'), p99: d('p99'), failedShare: d('failedShare') }
}

function regressionsOf(f: FigureSet, o: CompareOptions): Metric[] {
  const out: Metric[] = []
  const worse = (d: Delta, sign: 1 | -1): boolean => d.base !== null && d.current !== null && sign * (d.current - d.base) > o.tolerance * d.base
  if (worse(f.hitsPerSec, -1)) out.push('hitsPerSec')
  for (const m of ['p50', 'p95', 'p99'] as const) {
    if (worse(f[m], 1) && (f[m].change ?? 0) >= LATENCY_FLOOR_MS) out.push(m)
  }
  if ((f.failedShare.change ?? 0) > FAILED_SHARE_POINTS) out.push('failedShare')
  return out
}

const key = (e: EndpointSummary): string => `${e.method} ${e.name}`
