/**
 * The shell's short commands, typed instead of JavaScript: `get /path`, `post /path {"a":1}`,
 * `headers`, `headers X-Token abc`, `cookies`. Parsing is pure: the shell decides what to do.
 */

export const VERBS = ['get', 'post', 'put', 'patch', 'delete', 'head', 'options'] as const
export type Verb = (typeof VERBS)[number]

export type ShortCommand =
  /** `get /path [body]`: `body` is the rest of the line, trimmed ('' when none). */
  | { kind: 'request'; verb: Verb; url: string; body: string }
  /** `headers`: show the session's headers. */
  | { kind: 'headers' }
  /** `headers Name value…` or `headers Name: value…`: set a session header. */
  | { kind: 'set-header'; name: string; value: string }
  /** `headers -Name`: remove a session header. */
  | { kind: 'remove-header'; name: string }
  /** `cookies`: show the jar. */
  | { kind: 'cookies' }
  /** `cookies clear`: empty the jar. */
  | { kind: 'clear-cookies' }

const REQUEST = /^\s*(get|post|put|patch|delete|head|options)\s+((?:https?:\/\/|\/)\S*)(?:\s+([\s\S]*?))?\s*$/i
const HEADER_NAME = "[!#$%&'*+.^_`|~0-9A-Za-z-]+"
const SET_HEADER = new RegExp(`^\\s*headers\\s+(${HEADER_NAME})(?::\\s*|\\s+)([\\s\\S]*?)\\s*$`)
const REMOVE_HEADER = new RegExp(`^\\s*headers\\s+-(${HEADER_NAME}):?\\s*$`)

/**
 * The short command a line is, or undefined for JavaScript. A verb is a short command only when
 * a path (`/…`) or an http(s) URL follows, so `delete obj.key` stays JavaScript.
 */
export function parseShortCommand(line: string): ShortCommand | undefined {
  const request = REQUEST.exec(line)
  if (request !== null) {
    return { kind: 'request', verb: request[1]!.toLowerCase() as Verb, url: request[2]!, body: request[3] ?? '' }
  }
  const trimmed = line.trim()
  if (trimmed === 'headers') return { kind: 'headers' }
  if (trimmed === 'cookies') return { kind: 'cookies' }
  if (/^cookies\s+clear$/.test(trimmed)) return { kind: 'clear-cookies' }
  const remove = REMOVE_HEADER.exec(line)
  if (remove !== null) return { kind: 'remove-header', name: remove[1]! }
  const set = SET_HEADER.exec(line)
  if (set !== null && set[2] !== '') return { kind: 'set-header', name: set[1]!, value: set[2]! }
  return undefined
}

/** How a short command's body text is sent. */
export type BodyChoice =
  | { kind: 'none' }
  | { kind: 'json'; value: unknown }
  | { kind: 'form'; fields: Record<string, string> }
  | { kind: 'text'; text: string }
  /** Neither JSON nor a form: maybe a JavaScript expression (`{a: 1}`) for the shell to evaluate. */
  | { kind: 'expression'; source: string }

/**
 * `{"a":1}` or `[1,2]` is JSON; `a=1&b=two` is a form; `{a: 1}` is left to the shell to evaluate
 * as JavaScript; anything else is sent as text.
 */
export function chooseBody(text: string): BodyChoice {
  if (text === '') return { kind: 'none' }
  if (/^[[{]/.test(text)) {
    try {
      return { kind: 'json', value: JSON.parse(text) as unknown }
    } catch {
      return { kind: 'expression', source: text }
    }
  }
  if (/^[^=&\s]+=[^&\s]*(?:&[^=&\s]+=[^&\s]*)*$/.test(text)) {
    const fields: Record<string, string> = {}
    for (const [name, value] of new URLSearchParams(text)) {
      if (Object.hasOwn(fields, name) || name === '__proto__') return { kind: 'text', text }
      fields[name] = value
    }
    return { kind: 'form', fields }
  }
  return { kind: 'text', text }
}
