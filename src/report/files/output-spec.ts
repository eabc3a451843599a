/**
 * `--output KIND:FILE`, given as often as needed: json, csv, junit, or `null` (no file: the
 * console summary only). Parsed once, before the run, so a typo fails at once.
 */
import { UsageError } from '../../errors.js'
import type { Reporter } from '../reporter.js'
import { csvFiles, detailsPath, seriesPath } from './csv-output.js'
import { FileOutput, type ResultWriter } from './file-output.js'
import { jsonFiles } from './json-output.js'
import { junitFiles } from './junit-output.js'

export type OutputKind = 'json' | 'csv' | 'junit'

export interface OutputSpec {
  kind: OutputKind
  file: string
}

const WRITERS: Record<OutputKind, { write: (file: string) => ResultWriter; paths: (file: string) => string[] }> = {
  json: { write: jsonFiles, paths: (f) => [f] },
  csv: { write: csvFiles, paths: (f) => [f, seriesPath(f), detailsPath(f)] },
  junit: { write: junitFiles, paths: (f) => [f] },
}

/** Parses every `--output`; `null` yields no output. */
export function parseOutputs(values: readonly string[]): OutputSpec[] {
  const specs: OutputSpec[] = []
  for (const value of values) {
    if (value === 'null') continue
    const colon = value.indexOf(':')
    const kind = colon > 0 ? value.slice(0, colon) : value
    const file = colon > 0 ? value.slice(colon + 1) : ''
    if (!(kind in WRITERS)) {
      throw new UsageError(`--output '${value}': unknown kind '${kind}'`, 'use json:FILE, csv:FILE, junit:FILE, null, or prometheus:URL, influxdb:URL, otlp:URL', 'LOADS_ERR_OUTPUT')
    }
    if (file === '') throw new UsageError(`--output '${value}': no file`, `e.g. --output ${kind}:results.${kind === 'junit' ? 'xml' : kind}`, 'LOADS_ERR_OUTPUT')
    specs.push({ kind: kind as OutputKind, file })
  }
  return specs
}

/** One file output per spec; each says where it wrote on `log`. Relative paths are relative to `cwd` (the CLI's). */
export function outputReporters(specs: readonly OutputSpec[], log?: NodeJS.WritableStream, cwd?: string): Reporter[] {
  return specs.map((s) => new FileOutput(`--output ${s.kind}:${s.file}`, WRITERS[s.kind].paths(s.file), WRITERS[s.kind].write(s.file), log, cwd))
}
