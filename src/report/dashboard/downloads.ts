/**
 * The dashboard's downloads (`GET /api/download/result.json`, `/api/download/endpoints.csv`):
 * the run so far, or the whole run once it is over, in the same shapes `--output json:` and
 * `--output csv:` write — made from the same functions, so the files can never disagree.
 */
import type { Aggregator } from '../../stats/aggregator.js'
import { endpointsCsv } from '../files/csv-output.js'
import { formatJson } from '../files/json-output.js'
import { loadsVersion } from '../loads-version.js'
import { RESULT_FORMAT, RESULT_VERSION, type ReportView, type RunResult } from '../result.js'

/**
 * The view as a result file. A run still going has `state: 'running'` and no exit code yet
 * (`exitCode` is then -1): `loads report` draws it, thresholds and compare judge the run so far.
 */
export function resultOf(view: ReportView, aggregator: Aggregator): RunResult {
  const { live: _live, exitCode, ...rest } = view
  return { format: RESULT_FORMAT, version: RESULT_VERSION, loadsVersion: loadsVersion(), ...rest, exitCode: exitCode ?? -1, histograms: aggregator.encodedHistograms() }
}

/** What a download path serves: its content type, file name and body; undefined for another path. */
export function download(path: string, view: ReportView, aggregator: Aggregator): { type: string; name: string; body: string } | undefined {
  const stamp = new Date(view.run.startMs).toISOString().slice(0, 19).replaceAll(':', '-')
  if (path === '/api/download/result.json') return { type: 'application/json; charset=utf-8', name: `loads-${stamp}.json`, body: formatJson(resultOf(view, aggregator)) }
  if (path === '/api/download/endpoints.csv') return { type: 'text/csv; charset=utf-8', name: `loads-${stamp}.csv`, body: endpointsCsv(resultOf(view, aggregator)) }
  return undefined
}
