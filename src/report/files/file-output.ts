/**
 * An output that writes files once the run is over (JSON, CSV, JUnit, the HTML report). It
 * checks at the start that it will be able to write, so a typo in a path fails before the load
 * starts rather than after an hour of it.
 */
import { closeSync, mkdirSync, openSync, rmSync, statSync } from 'node:fs'
import path from 'node:path'
import { LoadsError, UsageError } from '../../errors.js'
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
   * @param cwd what relative paths are relative to: the CLI's own folder (`CliIO.cwd`), which is
   *   not `process.cwd()` when the CLI runs in-process; messages keep the paths as given.
   */
  constructor(
    readonly label: string,
    readonly paths: readonly string[],
    private readonly write: ResultWriter,
    private readonly log?: NodeJS.WritableStream,
    readonly cwd: string = process.cwd(),
  ) {}

  /** Where `file` (one of `paths`, or a file the writer names) is on disk. */
  resolve(file: string): string {
    return path.resolve(this.cwd, file)
  }

  onRunStart(info: RunInfo): void {
    for (const p of this.paths) checkWritable(this.resolve(p), p, this.label)
    this.#run = runMeta(info)
  }

  /** Writes the files; one that cannot be written (a full disk, a device error) is a LoadsError saying which and why. */
  onRunEnd(outcome: RunOutcome, aggregator: Aggregator): void {
    if (this.#run === undefined) return
    const result = buildResult(this.#run, outcome, aggregator, loadsVersion())
    for (const file of this.write(result)) {
      try {
        writeAtomically(this.resolve(file.path), file.content)
      } catch (err) {
        const e = err as NodeJS.ErrnoException
        throw new LoadsError('LOADS_ERR_OUTPUT_WRITE', `${this.label}: could not write ${file.path}: ${e.code === 'ENOSPC' ? 'no space left on the device' : e.message}`, {
          hint: 'the summary above is complete; free some space or give another path, and run again',
        })
      }
      this.log?.write(`${this.label}: wrote ${file.path}\n`)
    }
  }
}

/**
 * Two outputs (or an output's CSV companions) naming one file would overwrite each other: refused
 * before the run, with both named.
 */
export function checkDistinctPaths(outputs: readonly Reporter[]): void {
  const seen = new Map<string, string>()
  for (const output of outputs) {
    if (!(output instanceof FileOutput)) continue
    for (const p of output.paths) {
      const key = output.resolve(p)
      if (key === '/dev/null') continue
      const other = seen.get(key)
      if (other !== undefined) throw new UsageError(`${other} and ${output.label} both write ${p}: one would overwrite the other`, 'give each output its own file', 'LOADS_ERR_OUTPUT')
      seen.set(key, output.label)
    }
  }
}

export { writeAtomically }

/** `file`: the resolved path; `shown`: as the user gave it. */
function checkWritable(file: string, shown: string, label: string): void {
  const existing = statSync(file, { throwIfNoEntry: false })
  if (existing?.isDirectory()) throw new UsageError(`${label}: ${shown} is a folder, not a file`, 'give a file name (a new one, or one inside that folder)', 'LOADS_ERR_OUTPUT')
  // A device or a pipe (/dev/null, /dev/stdout) is written as it is; nothing to create.
  if (existing !== undefined && !existing.isFile()) return
  const dir = path.dirname(file)
  // Creating a file there, not asking access(): root may "access" /proc, yet cannot create in it.
  const probe = path.join(dir, `.loads-probe-${process.pid}`)
  try {
    mkdirSync(dir, { recursive: true })
    closeSync(openSync(probe, 'wx'))
    rmSync(probe, { force: true })
  } catch (err) {
    const e = err as NodeJS.ErrnoException
    throw new UsageError(`${label}: cannot write in ${dir}: ${e.code ?? e.message}`, 'give a path in a folder you can write to', 'LOADS_ERR_OUTPUT')
  }
}
