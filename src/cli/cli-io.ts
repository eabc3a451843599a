import { LoadsError } from '../errors.js'
import { ExitCode } from '../runner/exit-codes.js'
import { TestLoadError } from '../runner/local-engine.js'

/** What a command needs from the process; tests pass their own. */
export interface CliIO {
  stdout: NodeJS.WritableStream
  stderr: NodeJS.WritableStream
  /** For commands that read input (`loads curl -`, `loads shell`); absent where there is none. */
  stdin?: NodeJS.ReadableStream & { isTTY?: boolean }
  isTTY: boolean
  columns?: number
  cwd: string
  env: NodeJS.ProcessEnv
  /** Aborted on the first Ctrl-C / SIGTERM. */
  signal: AbortSignal
  /** Set by main(): a command may claim the first Ctrl-C (a cluster run asks "stop or detach?"). */
  interrupt?: InterruptSlot
}

/** A command that sets `handler` gets the first Ctrl-C instead of the abort of `signal`. */
export interface InterruptSlot {
  handler: ((signal: NodeJS.Signals) => void) | undefined
  /** What the first Ctrl-C / SIGTERM says it does, when it is not a run's "the summary follows". */
  stopping?: string
}

/** Thrown by command actions to end with a code (commander's own errors are mapped to it too). */
export class CliExit extends Error {
  constructor(readonly exitCode: number) {
    super(`exit ${exitCode}`)
  }
}

/**
 * Prints an error the way users should see it: the message and a hint, no framework stack trace
 * (except for internal errors, which are bugs and need one). Returns the exit code.
 */
export function reportError(err: unknown, io: Pick<CliIO, 'stderr'>): number {
  if (err instanceof CliExit) return err.exitCode
  if (err instanceof TestLoadError) {
    io.stderr.write(`error: ${err.message}\n${err.detail ? `${err.detail}\n` : ''}`)
    return ExitCode.USAGE
  }
  if (err instanceof LoadsError) {
    io.stderr.write(`error: ${err.message}\n${err.hint ? `hint: ${err.hint}\n` : ''}`)
    return ExitCode.USAGE
  }
  const e = err instanceof Error ? err : new Error(String(err))
  io.stderr.write(`internal error in Loads (please report it): ${e.stack ?? e.message}\n`)
  return ExitCode.INTERNAL
}
