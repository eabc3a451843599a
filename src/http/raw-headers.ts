/**
 * Helpers over undici's raw response headers: a flat array `[name, value, name, value, …]` of
 * Buffers that are views into the socket's bytes. Reading them as-is on the hot path (instead of
 * parsing every response into an object) lets a test that never looks at headers pay nothing.
 */

/** Whether a raw header name equals `lowerName` (ASCII, case-insensitive) without allocating. */
export function rawNameIs(name: Buffer, lowerName: string): boolean {
  const length = lowerName.length
  if (name.length !== length) return false
  for (let i = 0; i < length; i++) {
    // OR 0x20 folds ASCII upper case onto lower case; header names are tokens, so it is exact.
    if ((name[i]! | 0x20) !== lowerName.charCodeAt(i)) return false
  }
  return true
}

/** Every value of header `lowerName`, in the order received. */
export function rawValues(raw: readonly Buffer[], lowerName: string): string[] {
  const values: string[] = []
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (rawNameIs(raw[i]!, lowerName)) values.push(raw[i + 1]!.toString('latin1'))
  }
  return values
}

/** The first value of header `lowerName`, or undefined. */
export function rawFirst(raw: readonly Buffer[], lowerName: string): string | undefined {
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (rawNameIs(raw[i]!, lowerName)) return raw[i + 1]!.toString('latin1')
  }
  return undefined
}

/**
 * Lower-cased name → value; repeated headers are joined with ', ' (set-cookie included, as
 * Requests does: read those one by one with `rawValues`).
 */
export function rawToRecord(raw: readonly Buffer[]): Record<string, string> {
  const record: Record<string, string> = {}
  for (let i = 0; i + 1 < raw.length; i += 2) {
    // What undici's util.headerNameToString gives (known names from a table, the same text).
    const name = raw[i]!.toString('latin1').toLowerCase()
    const value = raw[i + 1]!.toString('latin1')
    const previous = record[name]
    record[name] = previous === undefined ? value : `${previous}, ${value}`
  }
  return record
}

/**
 * A response's header lines as offsets into the bytes received: the Buffers of the raw form are
 * cut only when something reads them (most load tests never look at headers). H1Connection
 * gives these to handlers that declare ACCEPTS_HEAD_SPANS; undici gives Buffer[].
 */
export class RawHeadSpans {
  #list: Buffer[] | null = null

  /**
   * @param bytes  the bytes the head was parsed from
   * @param spans  [nameStart, nameEnd, valueStart, valueEnd, …] into `bytes`
   * @param hasSetCookie whether a set-cookie line is among them (the one header the session must read)
   * @param contentLength the Content-Length the parser read, bytes; -1 when there is none
   */
  constructor(
    readonly bytes: Buffer,
    readonly spans: readonly number[],
    readonly hasSetCookie: boolean,
    readonly contentLength: number = -1,
  ) {}

  /** The first value of header `lowerName`, read in place (no Buffer cut), or undefined. */
  first(lowerName: string): string | undefined {
    const { bytes, spans } = this
    const length = lowerName.length
    for (let i = 0; i < spans.length; i += 4) {
      const start = spans[i]!
      if (spans[i + 1]! - start !== length) continue
      let same = true
      for (let j = 0; j < length && same; j++) same = (bytes[start + j]! | 0x20) === lowerName.charCodeAt(j)
      if (same) return bytes.toString('latin1', spans[i + 2], spans[i + 3])
    }
    return undefined
  }

  /** The raw form, `[name, value, name, value, …]`, cut on first use. */
  get list(): Buffer[] {
    if (this.#list === null) {
      const { bytes, spans } = this
      const list: Buffer[] = []
      for (let i = 0; i < spans.length; i += 2) list.push(bytes.subarray(spans[i], spans[i + 1]))
      this.#list = list
    }
    return this.#list
  }
}

/** Raw response headers in either form. */
export type RawHeaders = readonly Buffer[] | RawHeadSpans

/** The first value of header `lowerName` (lower case) in either form, or undefined. */
export function rawHeaderFirst(raw: RawHeaders, lowerName: string): string | undefined {
  return raw instanceof RawHeadSpans ? raw.first(lowerName) : rawFirst(raw, lowerName)
}

/** The `[name, value, …]` Buffers of either form. */
export function rawList(raw: RawHeaders): readonly Buffer[] {
  return raw instanceof RawHeadSpans ? raw.list : raw
}

/** A handler with this property set to true takes RawHeadSpans in place of onHeaders' Buffer[]. */
export const ACCEPTS_HEAD_SPANS: unique symbol = Symbol('loads.acceptsHeadSpans')
