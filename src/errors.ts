/**
 * Errors that Loads itself raises carry a stable `code` (`LOADS_ERR_…`) and an optional hint,
 * so the CLI can print a clear message (never a framework stack trace) and pick an exit code.
 */
export class LoadsError extends Error {
  /** Stable machine-readable identifier, `LOADS_ERR_…`. */
  readonly code: string
  /** One sentence telling the user how to fix or investigate the problem, when we know one. */
  readonly hint?: string

  constructor(code: string, message: string, options?: { hint?: string | undefined; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'LoadsError'
    this.code = code
    if (options?.hint !== undefined) this.hint = options.hint
  }
}

/**
 * Bad input from the user: a flag, a test address, a test file that does not load.
 * The CLI exits with the usage code (2) for these.
 */
export class UsageError extends LoadsError {
  constructor(message: string, hint?: string, code = 'LOADS_ERR_USAGE') {
    super(code, message, { hint })
    this.name = 'UsageError'
  }
}
