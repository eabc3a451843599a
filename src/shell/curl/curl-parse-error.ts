import { UsageError } from '../../errors.js'

/**
 * Raised when a curl command cannot be turned into requests: bad shell quoting, an option that
 * would change what is sent but that a load test cannot reproduce, or text that is not curl.
 * A usage error (the CLI exits with 2), code `LOADS_ERR_CURL`.
 */
export class CurlParseError extends UsageError {
  /** Character offset in the command where the problem starts, when one is known. */
  readonly position: number | undefined
  /** The curl option at fault (`--proxy`), when one is. */
  readonly option: string | undefined

  constructor(message: string, details: { position?: number; option?: string; hint?: string } = {}) {
    super(message, details.hint, 'LOADS_ERR_CURL')
    this.name = 'CurlParseError'
    this.position = details.position
    this.option = details.option
  }
}

/** "line 2, column 7" for an offset into a possibly multi-line command. */
export function describePosition(input: string, position: number): string {
  const before = input.slice(0, position)
  const line = before.split('\n').length
  const column = position - before.lastIndexOf('\n')
  return `line ${line}, column ${column}`
}
