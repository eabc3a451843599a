/**
 * Comparing two runs (`loads report base.json current.json`): what each run was, side by side;
 * whether they can be compared at all; the change of every URL's rate, percentiles and
 * failed-hit share, and of every test's failed runs, with regressions and improvements flagged.
 * Plain data, no Node.js imports: the front end draws it as it is.
 */
import type { EndpointSummary, RunSummary, TimedSummary } from '../../stats/types.js'
import { notComparableReasons, runFacts, type CompareSide, type RunFacts } from './run-facts.js'

export type { CompareSide, RunFacts } from './run-facts.js'

export interface CompareOptions {
  /**
   * Relative change tolerated before a change is a regression (or an improvement): 0.1 =
   * latency 10% higher or rate 10% lower. Latencies must also move by 1 ms, so sub-millisecond
   * noise is not flagged.
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
  /** Hits that failed (network error or a status not expected) as a share of hits (0.01 = 1%). */
  failedShare: Delta
}

export interface EndpointComparison extends FigureSet {
  method: string
  name: string
  /** `both`, only in the base run (`gone`: it vanished, a regression) or only in the current one (`new`). */
  presence: 'both' | 'gone' | 'new'
  /** The figures that got worse beyond the tolerance, e.g. ['p95', 'failedShare']. */
  regressions: Metric[]
  /** The figures that got better beyond the tolerance. */
  improvements: Metric[]
}

/** A test method's runs (`Class.method`), or all test runs together (`name` '(all)'). */
export interface TestComparison {
  name: string
  presence: 'both' | 'gone' | 'new'
  runs: Delta
  /** Runs that ended in a failure or an error, as a share of runs. */
  failedShare: Delta
  /** Its failed share rose over 1 point, or every one of its current runs failed. */
  regressed: boolean
  /** Its failed share fell over 1 point. */
  improved: boolean
}

/** One thing that regressed or improved: `GET /a` and `p95, p99`; `threshold p95<300ms` and `failed (412 ms)`. */
export interface Finding {
  /** What moved: `all hits`, `METHOD name`, `Class.method`, `test runs`, `threshold …`. */
  subject: string
  detail: string
}

export interface Comparison {
  options: CompareOptions
  /** Each run as it was: tests, plan, users, duration, state. */
  runs: { base: RunFacts; current: RunFacts }
  /** Why the runs are not comparable (different tests or plans); empty when they are. */
  notComparable: string[]
  overall: FigureSet & { regressions: Metric[]; improvements: Metric[] }
  endpoints: EndpointComparison[]
  /** Every test method, or only '(all)' when a result does not say per method. */
  tests: TestComparison[]
  /** What regressed, one finding each: `GET /a` `p95, p99`; `GET /b` vanished; a failed threshold. */
  regressionList: Finding[]
  /** `regressionList.length`. */
  regressionCount: number
  /** What improved, one finding each, as the regressions. */
  improvementList: Finding[]
}

/** Failed-hit and failed-run share changes beyond this many percentage points count. */
const FAILED_SHARE_POINTS = 0.01
const LATENCY_FLOOR_MS = 1

const METRIC_LABEL: Record<Metric, string> = { hitsPerSec: 'hits/s', p50: 'p50', p95: 'p95', p99: 'p99', failedShare: 'failed hits' }

export function compareRuns(base: CompareSide, current: CompareSide, options: CompareOptions = DEFAULT_COMPARE_OPTIONS): Comparison {
  const overallFigures = figures(totals(base.summary), totals(current.summary))
  const overall = { ...overallFigures, regressions: changesOf(overallFigures, options, 1), improvements: changesOf(overallFigures, options, -1) }
  const endpoints = compareEndpoints(base.summary, current.summary, options)
  const tests = compareTests(base.summary, current.summary)

  const regressionList: Finding[] = []
  const improvementList: Finding[] = []
  const metrics = (ms: Metric[]): string => ms.map((m) => METRIC_LABEL[m]).join(', ')
  if (overall.regressions.length > 0) regressionList.push({ subject: 'all hits', detail: metrics(overall.regressions) })
  if (overall.improvements.length > 0) improvementList.push({ subject: 'all hits', detail: metrics(overall.improvements) })
  for (const e of endpoints) {
    const subject = `${e.method} ${e.name}`
    if (e.presence === 'gone') regressionList.push({ subject, detail: 'vanished (no hit in the current run)' })
    if (e.regressions.length > 0) regressionList.push({ subject, detail: metrics(e.regressions) })
    if (e.improvements.length > 0) improvementList.push({ subject, detail: metrics(e.improvements) })
  }
  for (const t of tests) {
    const share = (v: number | null): string => (v === null ? '–' : `${(v * 100).toFixed(1)}%`)
    const finding = { subject: t.name === '(all)' ? 'test runs' : t.name, detail: `${share(t.failedShare.current)} failed (was ${share(t.failedShare.base)})` }
    if (t.regressed) regressionList.push(finding)
    if (t.improved) improvementList.push(finding)
  }
  for (const t of current.thresholds.filter((x) => !x.pass)) regressionList.push({ subject: `threshold ${t.threshold}`, detail: `failed (${t.measuredText})` })

  return {
    options,
    runs: { base: runFacts(base), current: runFacts(current) },
    notComparable: notComparableReasons(base, current),
    overall,
    endpoints,
    tests,
    regressionList,
    regressionCount: regressionList.length,
    improvementList,
  }
}

function compareEndpoints(base: RunSummary, current: RunSummary, options: CompareOptions): EndpointComparison[] {
  const byKey = new Map<string, { base?: EndpointSummary; current?: EndpointSummary }>()
  for (const e of base.endpoints) byKey.set(key(e), { base: e })
  for (const e of current.endpoints) byKey.set(key(e), { ...byKey.get(key(e)), current: e })
  const endpoints = [...byKey.values()].map(({ base: b, current: c }) => {
    const any = (c ?? b)!
    const f = figures(b === undefined ? undefined : fromEndpoint(b), c === undefined ? undefined : fromEndpoint(c))
    const presence = b === undefined ? 'new' : c === undefined ? 'gone' : 'both'
    const both = presence === 'both'
    return { method: any.method, name: any.name, presence, ...f, regressions: both ? changesOf(f, options, 1) : [], improvements: both ? changesOf(f, options, -1) : [] } satisfies EndpointComparison
  })
  // Regressions first (vanished ones among them), then the busiest.
  const weight = (e: EndpointComparison): number => e.regressions.length + (e.presence === 'gone' ? 1 : 0)
  endpoints.sort((a, b) => weight(b) - weight(a) || (b.hits.current ?? b.hits.base ?? 0) - (a.hits.current ?? a.hits.base ?? 0))
  return endpoints
}

/** Per test method when both results say (results before per-method figures only have totals). */
function compareTests(base: RunSummary, current: RunSummary): TestComparison[] {
  const all = testComparison('(all)', { runs: base.tests.run, failed: base.tests.failures + base.tests.errors }, { runs: current.tests.run, failed: current.tests.failures + current.tests.errors })
  if (base.methods === undefined || current.methods === undefined) return [all]
  const byName = new Map<string, { base?: TimedSummary; current?: TimedSummary }>()
  for (const m of base.methods) byName.set(m.name, { base: m })
  for (const m of current.methods) byName.set(m.name, { ...byName.get(m.name), current: m })
  const counts = (m: TimedSummary | undefined): { runs: number; failed: number } | undefined => (m === undefined ? undefined : { runs: m.runs, failed: m.failures + m.errors })
  return [...byName.entries()].map(([name, m]) => testComparison(name, counts(m.base), counts(m.current)))
}

function testComparison(name: string, b: { runs: number; failed: number } | undefined, c: { runs: number; failed: number } | undefined): TestComparison {
  const share = (x: { runs: number; failed: number } | undefined): number | null => (x === undefined ? null : x.runs > 0 ? x.failed / x.runs : 0)
  const runs = delta(b?.runs ?? null, c?.runs ?? null)
  const failedShare = delta(share(b), share(c))
  const rise = failedShare.change ?? 0
  const allFailed = c !== undefined && c.runs > 0 && c.failed === c.runs
  return {
    name,
    presence: b === undefined ? 'new' : c === undefined ? 'gone' : 'both',
    runs,
    failedShare,
    regressed: rise > FAILED_SHARE_POINTS || allFailed,
    improved: rise < -FAILED_SHARE_POINTS,
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
  return { hits: s.hits, hitsPerSec: s.hitsPerSec, p50: s.latency.p50, p95: s.latency.p95, p99: s.latency.p99, failedShare: s.hits > 0 ? s.failed / s.hits : 0 }
}

function fromEndpoint(e: EndpointSummary): Figures {
  return { hits: e.hits, hitsPerSec: e.hitsPerSec, p50: e.latency.p50, p95: e.latency.p95, p99: e.latency.p99, failedShare: e.hits > 0 ? e.failed / e.hits : 0 }
}

function delta(base: number | null, current: number | null): Delta {
  const change = base !== null && current !== null ? current - base : null
  return { base, current, change, ratio: change !== null && base !== null && base !== 0 ? change / base : null }
}

function figures(b: Figures | undefined, c: Figures | undefined): FigureSet {
  const d = (k: keyof Figures): Delta => delta(b?.[k] ?? null, c?.[k] ?? null)
  return { hits: d('hits'), hitsPerSec: d('hitsPerSec'), p50: d('p50'), p95: d('p95'), p99: d('p99'), failedShare: d('failedShare') }
}

/** The figures that moved beyond the tolerance: worse with `direction` 1, better with -1. */
function changesOf(f: FigureSet, o: CompareOptions, direction: 1 | -1): Metric[] {
  const out: Metric[] = []
  const moved = (d: Delta, sign: 1 | -1): boolean => d.base !== null && d.current !== null && direction * sign * (d.current - d.base) > o.tolerance * d.base
  if (moved(f.hitsPerSec, -1)) out.push('hitsPerSec')
  for (const m of ['p50', 'p95', 'p99'] as const) {
    if (moved(f[m], 1) && direction * (f[m].change ?? 0) >= LATENCY_FLOOR_MS) out.push(m)
  }
  if (direction * (f.failedShare.change ?? 0) > FAILED_SHARE_POINTS) out.push('failedShare')
  return out
}

const key = (e: EndpointSummary): string => `${e.method} ${e.name}`
