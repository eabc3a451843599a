import { readFileSync } from 'node:fs'
import { UsageError } from '../../errors.js'
import { decodeHistogram } from '../../stats/histogram.js'
import { RESULT_FORMAT, RESULT_VERSION, type RunResult } from '../result.js'

/** Reads a result saved by `--output json:FILE`, refusing anything else with a clear message. */
export function readResult(file: string): RunResult {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${(err as Error).message}`, undefined, 'LOADS_ERR_RESULT')
  }
  let data: unknown
  try {
    data = JSON.parse(text)
  } catch (err) {
    throw new UsageError(`${file} is not JSON: ${(err as Error).message}`, 'give a file written by --output json:FILE', 'LOADS_ERR_RESULT')
  }
  return checkResult(data, file)
}

export function checkResult(data: unknown, label: string): RunResult {
  const r = data as Partial<RunResult> | null
  if (r === null || typeof r !== 'object' || r.format !== RESULT_FORMAT) {
    throw new UsageError(`${label} is not a Loads result`, 'give a file written by --output json:FILE', 'LOADS_ERR_RESULT')
  }
  if (r.version !== RESULT_VERSION) {
    throw new UsageError(`${label} is a version ${String(r.version)} result; this Loads reads version ${RESULT_VERSION}`, 'use the Loads version that wrote it', 'LOADS_ERR_RESULT')
  }
  if (typeof r.summary !== 'object' || !Array.isArray(r.series) || typeof r.histograms !== 'object' || typeof r.run !== 'object') {
    throw new UsageError(`${label} is an incomplete Loads result (summary, series, histograms or run missing)`, undefined, 'LOADS_ERR_RESULT')
  }
  checkHistograms(r as RunResult, label)
  return withFailedCounts(r as RunResult)
}

/**
 * Every histogram must decode, and hold as many latencies as its endpoint counts hits (every hit
 * records one): an edited or truncated file is refused here, by every `loads report` path,
 * rather than merged, compared or judged into wrong percentiles.
 */
function checkHistograms(r: RunResult, label: string): void {
  const h = r.histograms
  const corrupt = (what: string, why: string): UsageError =>
    new UsageError(`${label}: the histogram of ${what} is corrupt (${why})`, 'the file was edited or cut short: write it again with --output json:FILE', 'LOADS_ERR_RESULT')
  const count = (what: string, encoded: unknown): number => {
    if (encoded === undefined) return 0
    if (typeof encoded !== 'string') throw corrupt(what, 'not a string')
    try {
      return decodeHistogram(encoded, true).totalCount
    } catch (err) {
      throw corrupt(what, (err as Error).message)
    }
  }
  const hitsOf = new Map((Array.isArray(r.summary.endpoints) ? r.summary.endpoints : []).map((e) => [`${e.method} ${e.name}`, e.hits]))
  let endpointLatencies = 0
  for (const e of Array.isArray(h.endpoints) ? h.endpoints : []) {
    const what = `${e.method} ${e.name}`
    const latencies = count(`${what} (latency)`, e.latency)
    count(`${what} (ttfb)`, e.ttfb)
    count(`${what} (service time)`, e.service)
    const hits = hitsOf.get(what)
    if (typeof hits === 'number' && latencies !== hits) throw corrupt(what, `it holds ${latencies} latencies where the summary counts ${hits} hits`)
    endpointLatencies += latencies
  }
  const total = count('the whole run (latency)', h.latency)
  if (Array.isArray(h.endpoints) && total !== endpointLatencies) {
    throw corrupt('the whole run', `it holds ${total} latencies where its endpoints hold ${endpointLatencies}`)
  }
  count('the service time', h.service)
  for (const g of h.groups ?? []) count(`group ${g.name}`, g.duration)
  for (const m of h.methods ?? []) count(`test ${m.name}`, m.duration)
  for (const s of h.scenarios ?? []) {
    count(`scenario ${s.name} (duration)`, s.duration)
    count(`scenario ${s.name} (latency)`, s.latency)
  }
}

/**
 * Results written before `failed` existed counted an HTTP status ≥ 400 as a failure (there was
 * no `expect` then): their figures follow from the statuses.
 */
function withFailedCounts(r: RunResult): RunResult {
  const s = r.summary as Partial<RunResult['summary']> & RunResult['summary']
  if (typeof s.failed === 'number' || !Array.isArray(s.endpoints)) return r
  let httpFailed = 0
  for (const e of s.endpoints as (RunResult['summary']['endpoints'][number] & { httpFailed?: number })[]) {
    if (typeof e.httpFailed !== 'number') {
      e.httpFailed = Object.entries(e.statuses ?? {}).reduce((n, [status, c]) => (Number(status) >= 400 ? n + c : n), 0)
      e.failed = e.errors + e.httpFailed
    }
    httpFailed += e.httpFailed
  }
  s.httpFailed = httpFailed
  s.failed = s.networkErrors + httpFailed
  return r
}
