import { readFileSync, statSync } from 'node:fs'
import path from 'node:path'
import { UsageError } from '../errors.js'
import { parseDataRows, uniqueRowsNeeded, type DataConfig, type DataFormat, type DataMode } from './data-feed.js'

/**
 * The largest `--data` file, bytes. The rows travel to every worker thread (and agent) and each
 * parses its own copy: a 200 MB CSV took 3.1 GB and 30 s before this limit.
 */
export const MAX_DATA_BYTES = 64 * 1024 * 1024

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(bytes < 10 * 1024 * 1024 ? 1 : 0)} MiB`
}

export const DATA_MODES: readonly DataMode[] = ['round-robin', 'unique']

/**
 * Reads `--data FILE` on the coordinator, checks it parses and has enough rows for the mode, and
 * returns it as RunConfig data. The format comes from the extension: .csv, .json, .jsonl/.ndjson.
 */
export function loadDataFile(file: string, cwd: string, mode: DataMode, stepUsers: number[], agents = 1): DataConfig {
  const format = formatOf(file)
  let text: string
  try {
    const full = path.resolve(cwd, file)
    const stat = statSync(full)
    if (!stat.isFile()) throw new UsageError(`--data ${file}: not a regular file`, 'give a .csv, .json or .jsonl file')
    if (stat.size > MAX_DATA_BYTES) {
      throw new UsageError(
        `--data ${file} is ${mib(stat.size)}: more than the ${mib(MAX_DATA_BYTES)} a run takes (every worker thread, and every agent, holds its own parsed copy)`,
        'keep only the rows and columns the test uses, or split the file across runs',
        'LOADS_ERR_DATA_TOO_LARGE',
      )
    }
    text = readFileSync(full, 'utf8')
  } catch (err) {
    if (err instanceof UsageError) throw err
    throw new UsageError(`--data ${file}: cannot read it: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
  }
  const rows = parseDataRows(format, text, file).length
  if (mode === 'unique') {
    const needed = uniqueRowsNeeded(stepUsers, agents)
    if (rows < needed) {
      throw new UsageError(
        `--data-mode unique needs a row per user: ${needed} users${agents > 1 ? ` (on ${agents} agents)` : ''}, but ${file} has ${rows} rows`,
        'add rows, run fewer users (or --max-users with --rate), or use --data-mode round-robin',
      )
    }
  }
  return { file, format, text, rows, mode }
}

function formatOf(file: string): DataFormat {
  const ext = path.extname(file).toLowerCase()
  if (ext === '.csv') return 'csv'
  if (ext === '.json') return 'json'
  if (ext === '.jsonl' || ext === '.ndjson') return 'jsonl'
  throw new UsageError(`--data ${file}: unknown format '${ext || '(no extension)'}'`, 'name the file .csv, .json or .jsonl')
}

export function parseDataMode(text: string): DataMode {
  if ((DATA_MODES as readonly string[]).includes(text)) return text as DataMode
  throw new UsageError(`--data-mode expects round-robin or unique: got '${text}'`)
}
