/**
 * An output that writes files once the run is over (JSON, CSV, JUnit, the HTML report). It
 * checks at the start that it will be able to write, so a typo in a path fails before the load
 * starts rather than after an hour of it.
 */
import { accessSync, constants, mkdirSync } from 'node:fs'
import path from 'node:path'
import { UsageError } from '../../errors.js'
import { writeAtomically } from '../../util/write-atomically.js'
import type { Aggregator } from '../../stats/aggregator.js'
import { loadsVersion } from '../loads-version.js'
import type { Reporter, RunInfo, RunOutcome } from '../reporter.js'
import { buildResult, runMeta, type RunMeta, type RunResult } from '../result.js'

/** A file to write: its path and its content. */
export interface OutputFile {
  path: string
  content: string
}

/** Turns a finished run into files. */
export type ResultWriter = (result: RunResult) => OutputFile[]

export class FileOutput implements Reporter {
  #run: RunMeta | undefined

  /**
   * @param label how the output is named in messages (`--output json:out.json`).
   * @param paths the files it will write, checked at the start.
   */
  constructor(
    readonly label: string,
    readonly paths: readonly string[],
    private readonly write: ResultWriter,
    private readonly log?: NodeJS.WritableStream,
  ) {}

  onRunStart(info: RunInfo): void {
    for (const p of this.paths) checkWritable(p, this.label)
    this.#run = runMeta(info)
  }

  onRunEnd(outcome: RunOutcome, aggregator: Aggregator): void {
    if (this.#run === undefined) return
    const result = buildResult(this.#run, outcome, aggregator, loadsVersion())
    for (const file of this.write(result)) {
      writeAtomically(file.path, file.content)
      this.log?.write(`${this.label}: wrote ${file.path}\n`)
    }
  }
}

export { writeAtomically }

function checkWritable(file: string, label: string): void {
  const dir = path.dirname(path.resolve(file))
  try {
    mkdirSync(dir, { recursive: true })
    accessSync(dir, constants.W_OK)
  } catch (err) {
    throw new UsageError(`${label}: cannot write to ${dir}: ${(err as Error).message}`, 'give a path in a folder you can write to', 'LOADS_ERR_OUTPUT')
  }
}
