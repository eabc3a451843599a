import { readFileSync } from 'node:fs'
import path from 'node:path'
import { UsageError } from '../errors.js'
import { parseDataRows, uniqueRowsNeeded, type DataConfig, type DataFormat, type DataMode } from './data-feed.js'

export const DATA_MODES: readonly DataMode[] = ['round-robin', 'unique']

/**
 * Reads `--data FILE` on the coordinator, checks it parses and has enough rows for the mode, and
 * returns it as RunConfig data. The format comes from the extension: .csv, .json, .jsonl/.ndjson.
 */
export function loadDataFile(file: string, cwd: string, mode: DataMode, stepUsers: number[], agents = 1): DataConfig {
  const format = formatOf(file)
  let text: string
  try {
    text = readFileSync(path.resolve(cwd, file), 'utf8')
  } catch (err) {
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
