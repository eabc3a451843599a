/**
 * Errors that Loads itself raises carry a stable `code` (`LOADS_ERR_…`) and an optional hint,
 * so the CLI can print a clear message (never a framework stack trace) and pick an exit code.
 */
export class LoadsError extends Error {
  readonly code: string
  readonly hint: string | undefined

  constructor(code: string, message: string, hint?: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'LoadsError'
    this.code = code
    this.hint = hint
  }
}

/**
 * Bad input from the user: a flag, a test address, a test file that does not load.
 * The CLI exits with the usage code (2) for these.
 */
export class UsageError extends LoadsError {
  constructor(message: string, hint?: string, code = 'LOADS_ERR_USAGE') {
    super(code, message, hint)
    this.name = 'UsageError'
  }
}
