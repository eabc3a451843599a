/**
 * RequestSpec: one HTTP request as an importer understood it, independent of where it came from
 * (a curl command, a HAR entry, the interactive shell). `generateTestCase` turns a list of them
 * into a TestCase module. Specs are plain data: they can be compared in tests and serialised.
 */

/** What the request sends. The kind decides how the generated code spells it. */
export type RequestBody =
  | { readonly kind: 'none' }
  /**
   * JSON text that JSON.stringify writes back byte for byte (compact, as browsers and most clients
   * send it), so `json:` in the generated test sends the same body. Pretty-printed JSON is `text`.
   */
  | { readonly kind: 'json'; readonly value: unknown }
  /** An `application/x-www-form-urlencoded` body that URLSearchParams reproduces byte for byte. */
  | { readonly kind: 'form'; readonly fields: Readonly<Record<string, string>> }
  /** Any other body that is printable UTF-8 text (multipart bodies included). */
  | { readonly kind: 'text'; readonly text: string }
  /** Bytes that are not printable UTF-8 text. */
  | { readonly kind: 'binary'; readonly bytes: Uint8Array }
  /** A body that was sent but not recorded: `size` zero bytes the user replaces (a warning says so). */
  | { readonly kind: 'placeholder'; readonly size: number }

export interface RequestSpec {
  /** Sent as written: curl's `-X post` sends `post`. */
  method: string
  /** Absolute URL, fragment removed (neither curl nor browsers send it). */
  url: string
  /** Header name (as written) → value, in the order first seen. Duplicates are joined with `, `. */
  headers: Record<string, string>
  /**
   * For a header recorded more than once: each value on its own (`headers` holds them joined).
   * The generated test sends one field line per value, as recorded.
   */
  headerLists?: Record<string, readonly string[]>
  /**
   * Headers the request must not carry although the session would add them: its defaults
   * (`accept`, `user-agent`) that curl's `-H 'Accept:'` removed, and `content-length` on a bodiless
   * POST (curl sends none). Written as `name: null` in the generated headers.
   */
  unsetHeaders?: readonly string[]
  /** Send the path as written, `.` and `..` included (curl --path-as-is). */
  pathAsIs?: boolean
  body: RequestBody
  /** HTTP basic credentials: [user, password]. */
  auth?: readonly [string, string]
  /** curl follows redirects only with -L; a HAR records every hop, so replays never follow. */
  allowRedirects: boolean
  /** Whole-request time limit in milliseconds. */
  timeoutMs?: number
  /** Skip TLS certificate verification (curl -k). */
  insecure: boolean
  /**
   * Cookies to put in the session's jar before this request: [name, value] pairs scoped to the
   * request's origin. Used instead of a `Cookie` header so that cookies the server sets later
   * replace them, as in a browser.
   */
  cookies?: ReadonlyArray<readonly [string, string]>
  /** Stats name grouping this request (`/items/{id}`). */
  name?: string
  /** Remarks for the reader of the generated test (emitted as comments above the request). */
  notes?: readonly string[]
  /** Values taken from this request's live response for later requests (correlation). */
  extract?: readonly Extraction[]
  /**
   * Recorded values in this request that later code replaces with live ones: each occurrence of
   * `recorded` in the URL, a header value or the body is written as the variable instead.
   * `wholeSegment` ones (short ids) replace only a whole URL path segment or a whole value.
   */
  substitute?: readonly Substitution[]
  /** The request goes where this variable (an extracted redirect Location) points, not to `url`. */
  urlFrom?: string
  /** The group (a recorded page) this request belongs to. */
  group?: string
  /** Pause before this request, ms (`--think recorded`: the gap the user left). */
  thinkMs?: number
}

/** How a value is taken from a live response; `extract.<kind>` in the generated test. */
export interface Extraction {
  /** Name of the variable (a JavaScript identifier, unique in the test). */
  readonly variable: string
  readonly kind: 'formField' | 'meta' | 'cookie' | 'json' | 'location' | 'locationSegment' | 'between'
  /** The helper's arguments after the response (a name, a JSON path, an index, boundaries). */
  readonly args: ReadonlyArray<string | number | ReadonlyArray<string | number>>
  /** Says in the generated code where the value comes from and where it goes. */
  readonly note: string
}

/** A recorded value written as a variable. */
export interface Substitution {
  readonly recorded: string
  readonly variable: string
  readonly wholeSegment?: boolean
}

/** Case-insensitive lookup of a header's name as stored in `headers`, or undefined. */
export function findHeader(headers: Record<string, string>, name: string): string | undefined {
  const lower = name.toLowerCase()
  return Object.keys(headers).find((key) => key.toLowerCase() === lower)
}

/** The value of a header, matched case-insensitively. */
export function headerValue(headers: Record<string, string>, name: string): string | undefined {
  const key = findHeader(headers, name)
  return key === undefined ? undefined : headers[key]
}

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\b|^text\/json\b/i
const FORM_TYPE = /^application\/x-www-form-urlencoded\b/i

/**
 * Chooses the most readable body kind that still sends the same bytes (or, for JSON, the same
 * document): JSON for JSON content types, a field object for a form that URLSearchParams
 * re-encodes identically, text for printable UTF-8, binary otherwise.
 */
export function classifyBody(bytes: Uint8Array, contentType: string | undefined): RequestBody {
  const text = decodePrintableUtf8(bytes)
  if (text === undefined) return { kind: 'binary', bytes }
  if (contentType !== undefined && JSON_TYPE.test(contentType)) {
    const value = safeJson(text)
    // `json:` sends JSON.stringify's bytes: only a document already written that way keeps its length.
    if (value !== undefined && JSON.stringify(value) === text) return { kind: 'json', value }
  }
  if (contentType !== undefined && FORM_TYPE.test(contentType)) {
    const fields = exactForm(text)
    if (fields !== undefined) return { kind: 'form', fields }
  }
  return { kind: 'text', text }
}

/** UTF-8 text without control characters other than tab, CR and LF; undefined otherwise. */
export function decodePrintableUtf8(bytes: Uint8Array): string | undefined {
  let text: string
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes)
  } catch {
    return undefined
  }
  // eslint-disable-next-line no-control-regex
  return /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/.test(text) ? undefined : text
}

function safeJson(text: string): unknown {
  // Integers past 2^53 would silently change value, and a "__proto__" key would become the
  // prototype of the emitted object literal: both stay raw text.
  if (/\d{16,}/.test(text) || text.includes('__proto__')) return undefined
  try {
    const value: unknown = JSON.parse(text)
    return typeof value === 'object' && value !== null ? value : undefined
  } catch {
    return undefined
  }
}

function exactForm(text: string): Record<string, string> | undefined {
  if (text === '') return undefined
  const params = new URLSearchParams(text)
  const fields: Record<string, string> = {}
  for (const [name, value] of params) {
    if (Object.hasOwn(fields, name) || name === '__proto__') return undefined
    fields[name] = value
  }
  return new URLSearchParams(fields).toString() === text ? fields : undefined
}

/** Removes the `#fragment` of a URL string without otherwise touching it. */
export function stripFragment(url: string): string {
  const hash = url.indexOf('#')
  return hash === -1 ? url : url.slice(0, hash)
}
