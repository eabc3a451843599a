import type { OutputFile } from './file-output.js'
import type { RunResult } from '../result.js'

/** The `$id` of schema/loads-result.schema.json, shipped in the package. */
export const RESULT_SCHEMA_ID = 'urn:loads-runner:result:v1'

/** `--output json:FILE`: the whole result, with its merged histograms (see schema/loads-result.schema.json). */
export function jsonFiles(file: string) {
  return (result: RunResult): OutputFile[] => [{ path: file, content: formatJson(result) }]
}

export function formatJson(result: RunResult): string {
  return `${JSON.stringify(result, null, 2)}\n`
}
