import { UsageError } from '../../errors.js'

/**
 * Raised when a file is not a HAR, or an entry in it lacks what a request needs. A usage error
 * (the CLI exits with 2), code `LOADS_ERR_HAR`.
 */
export class HarParseError extends UsageError {
  /** Index in `log.entries` of the entry at fault, when one is. */
  readonly entry: number | undefined

  constructor(message: string, entry?: number) {
    super(message, undefined, 'LOADS_ERR_HAR')
    this.name = 'HarParseError'
    this.entry = entry
  }
}
