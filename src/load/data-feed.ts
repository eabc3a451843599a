/**
 * `--data`: the rows of a CSV, JSON or JSONL file handed to test runs as `this.data`. The file's
 * text travels once in the RunConfig (to every worker, and to every agent of a cluster) and is
 * parsed once per worker; users only hold an index into those rows, so nothing is copied per user.
 */
import { createRequire } from 'node:module'
import { LoadsError, UsageError } from '../errors.js'

/** csv-parse's synchronous parser, loaded for the first CSV file (its CommonJS build: one file). */
const parseCsv = (text: string, options: import('csv-parse/sync').Options): unknown =>
  (createRequire(import.meta.url)('csv-parse/sync') as typeof import('csv-parse/sync')).parse(text, options)

/** `round-robin`: each run takes the next row; `unique`: each user keeps a row of its own. */
export type DataMode = 'round-robin' | 'unique'
export type DataFormat = 'csv' | 'json' | 'jsonl'

export interface DataConfig {
  /** The file as the user named it, for messages. */
  file: string
  format: DataFormat
  /** The file's content. */
  text: string
  /** Rows in it (checked when the run starts). */
  rows: number
  mode: DataMode
}

/** The rows of a data file: CSV rows become objects keyed by the header line; JSON must be an array. */
export function parseDataRows(format: DataFormat, text: string, file: string): unknown[] {
  let rows: unknown[]
  try {
    rows = parseRows(format, text)
  } catch (err) {
    if (err instanceof LoadsError) throw err
    throw new UsageError(`--data ${file}: not valid ${format.toUpperCase()}: ${(err as Error).message}`)
  }
  if (rows.length === 0) throw new UsageError(`--data ${file} has no rows`)
  // Rows are shared by every user of a worker: frozen, so one user cannot change another's data.
  for (const row of rows) deepFreeze(row)
  return rows
}

function parseRows(format: DataFormat, text: string): unknown[] {
  switch (format) {
    case 'csv':
      return parseCsv(text, { columns: true, bom: true, skip_empty_lines: true }) as unknown[]
    case 'json': {
      const value = JSON.parse(text) as unknown
      if (!Array.isArray(value)) throw new UsageError('--data: a JSON data file holds an array of rows: [{…}, {…}]')
      return value
    }
    case 'jsonl':
      return text.split('\n').flatMap((line, i) => {
        if (line.trim() === '') return []
        try {
          return [JSON.parse(line) as unknown]
        } catch (err) {
          throw new Error(`line ${i + 1}: ${(err as Error).message}`)
        }
      })
  }
}

function deepFreeze(value: unknown): void {
  if (value === null || typeof value !== 'object' || Object.isFrozen(value)) return
  Object.freeze(value)
  for (const v of Object.values(value)) deepFreeze(v)
}

/** Rows needed and had do not match the mode: a user would get no row of its own. */
export class DataExhaustedError extends LoadsError {
  constructor(message: string) {
    super('LOADS_ERR_DATA_EXHAUSTED', message, { hint: 'add rows, run fewer users, or use --data-mode round-robin' })
    this.name = 'DataExhaustedError'
  }
}

/**
 * A worker's view of the rows. Round-robin order is kept across the workers of an engine by a
 * counter in shared memory; agents of a cluster interleave (agent i of n takes rows i, i+n, …).
 * Unique rows are partitioned by index: agent i's users take rows [i·U, (i+1)·U) of a step with
 * U users, each user the row of its index in the step.
 */
export class DataFeed {
  readonly rows: readonly unknown[]
  readonly mode: DataMode
  readonly #file: string
  readonly #counter: Int32Array
  readonly #shard: { index: number; count: number }

  /** @param counter an Int32Array of length ≥ 1 over shared memory, shared by the engine's workers. */
  constructor(config: DataConfig, counter: Int32Array | undefined, shard: { index: number; count: number } = { index: 0, count: 1 }) {
    this.rows = parseDataRows(config.format, config.text, config.file)
    this.mode = config.mode
    this.#file = config.file
    this.#counter = counter ?? new Int32Array(1)
    this.#shard = shard
  }

  /** Round-robin: the row for the next run. */
  next(): unknown {
    const n = this.rows.length
    const c = this.#counter
    // Kept below n so it never overflows; (k mod n)·count ≡ k·count (mod n).
    let k: number
    do k = Atomics.load(c, 0)
    while (Atomics.compareExchange(c, 0, k, (k + 1) % n) !== k)
    return this.rows[(this.#shard.index + k * this.#shard.count) % n]
  }

  /** Unique: the row of user `user` (0-based within its step on this engine) of a step of `stepUsers` users. */
  forUser(user: number, stepUsers: number): unknown {
    const index = this.#shard.index * stepUsers + user
    if (index >= this.rows.length) {
      throw new DataExhaustedError(
        `--data-mode unique: user ${index + 1} has no row of its own (${this.#file} has ${this.rows.length} rows)`,
      )
    }
    return this.rows[index]
  }
}

/** Rows a plan needs in unique mode: its largest step's users, on every agent. */
export function uniqueRowsNeeded(stepUsers: number[], agents: number): number {
  return Math.max(...stepUsers) * agents
}
