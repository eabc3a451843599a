/**
 * Raised when a curl command cannot be turned into requests: bad shell quoting, an option that
 * would change what is sent but that a load test cannot reproduce, or text that is not curl.
 */
export class CurlParseError extends Error {
  /** Stable code for programs: always `LOADS_ERR_CURL`. */
  readonly code = 'LOADS_ERR_CURL'
  /** Character offset in the command where the problem starts, when one is known. */
  readonly position: number | undefined
  /** The curl option at fault (`--proxy`), when one is. */
  readonly option: string | undefined

  constructor(message: string, details: { position?: number; option?: string } = {}) {
    super(message)
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
