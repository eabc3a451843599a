/** Raised when a file is not a HAR, or an entry in it lacks what a request needs. */
export class HarParseError extends Error {
  /** Stable code for programs: always `LOADS_ERR_HAR`. */
  readonly code = 'LOADS_ERR_HAR'
  /** Index in `log.entries` of the entry at fault, when one is. */
  readonly entry: number | undefined

  constructor(message: string, entry?: number) {
    super(message)
    this.name = 'HarParseError'
    this.entry = entry
  }
}
