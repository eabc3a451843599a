import { readFileSync } from 'node:fs'
import { UsageError } from '../../errors.js'
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
  return r as RunResult
}
