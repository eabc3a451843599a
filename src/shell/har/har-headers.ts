import { findHeader } from '../request-spec.js'
import { stringField } from './har-entries.js'

/**
 * Request headers a replay does not send, and why:
 * - `cookie`: the session's jar sends cookies (the recording's are seeded, the server's stored);
 * - `host` and HTTP/2 pseudo-headers (`:authority`, `:method`, …): they come from the URL;
 * - `content-length`, `transfer-encoding`, `expect`: the session frames the body it sends;
 * - hop-by-hop (RFC 9110 §7.6.1): `connection`, `keep-alive`, `proxy-connection`,
 *   `proxy-authorization`, `te`, `trailer`, `upgrade` — owned by the connection pool.
 */
const DROPPED = new Set([
  'cookie', 'host', 'content-length', 'transfer-encoding', 'expect', 'connection', 'keep-alive',
  'proxy-connection', 'proxy-authorization', 'te', 'trailer', 'upgrade',
])

/**
 * Conditional headers: the browser's cache sent them with the validators it held, so replayed
 * as recorded they ask for a 304 against a cache the virtual user does not have (and a recorder
 * that writes the 304 as 200, as Playwright does, then fails the status check). Dropped unless
 * the user asks for them (`--keep-conditional`).
 */
const CONDITIONAL = new Set(['if-none-match', 'if-modified-since', 'if-match', 'if-unmodified-since', 'if-range'])

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/
// eslint-disable-next-line no-control-regex
const BAD_VALUE = /[\0\r\n]/

/** Codings Node.js decodes: `accept-encoding` is narrowed to these (`zstd` is not on Node 20). */
const DECODABLE_CODINGS = new Set(['gzip', 'deflate', 'br', 'identity'])

export interface HeaderChoices {
  keepConditional: boolean
}

/**
 * The headers of a HAR request that a replay sends, names as recorded, in recorded order. A
 * header with an invalid name or value is left out with a warning naming the entry (the rest of
 * the entry replays). A name recorded twice is joined with `, ` in `headers` (RFC 9110 §5.3) for
 * readers, and its values kept apart in `lists`, so the replay sends separate field lines as the
 * browser did. `accept-encoding` keeps what Node.js can decode.
 */
export function replayedHeaders(list: unknown, index: number, choices: HeaderChoices, warn: (message: string) => void): { headers: Record<string, string>; lists: Record<string, string[]> } {
  const headers: Record<string, string> = {}
  const lists: Record<string, string[]> = {}
  if (!Array.isArray(list)) return { headers, lists }
  let conditional = 0
  for (const item of list) {
    const name = stringField(item, 'name')
    let value = stringField(item, 'value')
    if (name === undefined || value === undefined || name.startsWith(':')) continue
    const lower = name.toLowerCase()
    if (DROPPED.has(lower)) continue
    if (!TOKEN.test(name)) {
      warn(`entry ${index}: header ${JSON.stringify(name)} is not a valid header name; left out`)
      continue
    }
    if (BAD_VALUE.test(value)) {
      warn(`entry ${index}: header ${name} has a line break or NUL in its value; left out`)
      continue
    }
    if (CONDITIONAL.has(lower) && !choices.keepConditional) {
      conditional++
      continue
    }
    if (lower === 'accept-encoding') {
      value = value
        .split(',')
        .map((coding) => coding.trim())
        .filter((coding) => DECODABLE_CODINGS.has(coding.split(';')[0]?.trim().toLowerCase() ?? ''))
        .join(', ')
      if (value === '') continue
    }
    const existing = findHeader(headers, name)
    if (existing === undefined) {
      headers[name] = value
    } else {
      lists[existing] ??= [headers[existing] ?? '']
      lists[existing].push(value)
      headers[existing] = `${headers[existing] ?? ''}, ${value}`
    }
  }
  if (conditional > 0) warn(`entry ${index}: left out ${conditional} conditional header(s) (If-None-Match, If-Modified-Since, …) the browser's cache added; --keep-conditional sends them`)
  return { headers, lists }
}
