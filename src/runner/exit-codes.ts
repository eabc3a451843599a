/**
 * The exit codes of every command: a contract for scripts and CI, shown by `--help` and the README.
 * One table, so the help text and the code can never disagree.
 */
export const ExitCode = {
  /** Every test run passed (and every threshold held). */
  OK: 0,
  /** At least one test run ended in an error or a failure. */
  TEST_FAILURES: 1,
  /** Bad usage or configuration: a flag, a test address, a test file that does not load. */
  USAGE: 2,
  /** A cluster run finished without some of its agents' results (lost mid-run, a snapshot part over the broker's max_payload, a broker given up on): partial. */
  PARTIAL: 3,
  /** A threshold (`--threshold`) failed, and no test run did (test failures take precedence). */
  THRESHOLD: 4,
  /** Something inside Loads broke: a bug to report. */
  INTERNAL: 70,
  /** Interrupted (Ctrl-C / SIGTERM): the summary covers what was done until then. */
  INTERRUPTED: 130,
} as const

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode]

/** Rows for `--help` and the README. */
export const EXIT_CODE_TABLE: ReadonlyArray<readonly [number, string]> = [
  [ExitCode.OK, 'every test run passed (and every threshold held)'],
  [ExitCode.TEST_FAILURES, 'some test runs ended in an error or a failure'],
  [ExitCode.USAGE, 'bad usage or configuration (flags, test address, test file)'],
  [ExitCode.PARTIAL, 'cluster run finished without some agents: partial results'],
  [ExitCode.THRESHOLD, 'a --threshold failed (and every test run passed)'],
  [ExitCode.INTERNAL, 'internal error in Loads (please report it)'],
  [ExitCode.INTERRUPTED, 'interrupted (Ctrl-C): the summary covers what was done'],
]

/**
 * The exit code of a finished run, by precedence: interrupted by the user (130) over the engine's
 * own verdict (e.g. PARTIAL) over failed test runs (1) over failed thresholds (4) over OK. A run
 * stopped by `--abort-on-fail` is not "interrupted": it ends with 4 (or 1 if tests failed too).
 */
export function finalExitCode(r: {
  interrupted: boolean
  engineCode?: number | undefined
  testFailures: number
  thresholdsFailed: boolean
}): number {
  if (r.interrupted) return ExitCode.INTERRUPTED
  if (r.engineCode !== undefined) return r.engineCode
  if (r.testFailures > 0) return ExitCode.TEST_FAILURES
  return r.thresholdsFailed ? ExitCode.THRESHOLD : ExitCode.OK
}

export function formatExitCodeTable(): string {
  return EXIT_CODE_TABLE.map(([code, text]) => `  ${String(code).padStart(3)}  ${text}`).join('\n')
}
