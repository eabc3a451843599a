import { classifyBody, findHeader, stripFragment } from '../request-spec.js'
import type { RequestBody, RequestSpec } from '../request-spec.js'
import { HarParseError } from './har-parse-error.js'
import { isStaticAsset } from './static-assets.js'

/** A request replayed from a HAR entry, with the status the browser saw (for assertions). */
export interface HarRequest extends RequestSpec {
  /** The recorded response status; absent when the browser got none (blocked, aborted). */
  status?: number
}

export interface ParseHarOptions {
  /**
   * Keep only requests to these hosts: `api.example.com`, `api.example.com:8443`, a wildcard
   * `*.example.com` (the domain and its subdomains) or a URL whose host is taken.
   */
  include?: readonly string[]
  /** Keep scripts, styles, images, fonts, media and source maps (dropped by default). */
  includeStatic?: boolean
  /** Hears what was dropped and why. */
  onWarning?: (message: string) => void
}

/**
 * Request headers not replayed, and why:
 * - `cookie`: the session's jar sends cookies; ones the recording never saw being set are seeded
 *   into the jar instead (RequestSpec.cookies), so cookies the server sets in the run win;
 * - HTTP/2 pseudo-headers (`:authority`, `:method`, …), `host`: they come from the URL;
 * - `content-length`, `transfer-encoding`: the session frames the body it sends;
 * - `connection`, `keep-alive`, `proxy-connection`, `upgrade`, `te`: hop-by-hop, owned by the
 *   connection pool.
 * `accept-encoding` is kept, since compression is part of the load a server carries, but narrowed
 * to gzip, deflate and br (what Node.js can decode; `zstd` is not on Node 20).
 */
const DROPPED_HEADERS = new Set([
  'cookie', 'host', 'content-length', 'transfer-encoding', 'connection', 'keep-alive',
  'proxy-connection', 'upgrade', 'te',
])
const DECODABLE_CODINGS = new Set(['gzip', 'deflate', 'br', 'identity'])

/**
 * Reads a HAR (HTTP Archive, as browsers export it) into requests in recorded order, leaving out
 * static assets (unless includeStatic), requests to hosts not in `include`, cache hits the
 * browser never sent, and non-HTTP entries (data:, blob:, ws:). Redirects are not followed on
 * replay: the HAR holds every hop as its own entry. Throws HarParseError when the input is not
 * a HAR or an entry has no request method or URL.
 */
export function parseHar(json: string | unknown, options: ParseHarOptions = {}): HarRequest[] {
  const warn = (message: string): void => options.onWarning?.(message)
  const entries = readEntries(json)
  const include = options.include?.map(normalizePattern)
  const serverCookies = new Set<string>()
  const seeded = new Map<string, string>()
  const skipped = { static: 0, host: 0, cache: 0, scheme: 0 }
  const requests: HarRequest[] = []

  entries.forEach((entry, index) => {
    const request = field(entry, 'request')
    const method = field(request, 'method')
    const rawUrl = field(request, 'url')
    if (typeof method !== 'string' || method === '') throw new HarParseError(`entry ${index}: request.method is missing`, index)
    if (typeof rawUrl !== 'string' || rawUrl === '') throw new HarParseError(`entry ${index}: request.url is missing`, index)
    let url: URL
    try {
      url = new URL(rawUrl)
    } catch {
      throw new HarParseError(`entry ${index}: request.url ${JSON.stringify(rawUrl)} is not a URL`, index)
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      skipped.scheme++
      return
    }
    const fromCache = field(entry, '_fromCache')
    if (typeof fromCache === 'string' && fromCache !== '') {
      skipped.cache++
      return
    }
    if (include !== undefined && !include.some((pattern) => hostMatches(url, pattern))) {
      skipped.host++
      return
    }
    const response = field(entry, 'response')
    const content = field(response, 'content')
    const mimeType = stringField(content, 'mimeType')
    const resourceType = stringField(entry, '_resourceType')
    if (options.includeStatic !== true && isStaticAsset({ method, url: rawUrl, mimeType, resourceType })) {
      skipped.static++
      return
    }

    const headers = replayedHeaders(field(request, 'headers'))
    const spec: HarRequest = {
      method,
      url: stripFragment(rawUrl),
      headers,
      body: requestBody(field(request, 'postData'), headers, index, warn),
      allowRedirects: false,
      insecure: false,
    }
    const status = field(response, 'status')
    if (typeof status === 'number' && Number.isInteger(status) && status > 0) spec.status = status

    const seeds: [string, string][] = []
    for (const [name, value] of requestCookies(request)) {
      if (serverCookies.has(name) || seeded.get(name) === value) continue
      seeded.set(name, value)
      seeds.push([name, value])
    }
    if (seeds.length > 0) spec.cookies = seeds
    for (const name of responseCookieNames(response)) serverCookies.add(name)
    requests.push(spec)
  })

  if (skipped.static > 0) warn(`left out ${skipped.static} static asset request(s) (scripts, styles, images, fonts, media); --include-static keeps them`)
  if (skipped.host > 0) warn(`left out ${skipped.host} request(s) to hosts not included`)
  if (skipped.cache > 0) warn(`left out ${skipped.cache} request(s) the browser answered from its cache`)
  if (skipped.scheme > 0) warn(`left out ${skipped.scheme} non-HTTP entr(ies) (data:, blob:, ws:, extensions)`)
  return requests
}

function readEntries(input: unknown): unknown[] {
  let value = input
  if (typeof input === 'string') {
    try {
      value = JSON.parse(input.replace(/^\uFEFF/, ''))
    } catch (error) {
      throw new HarParseError(`not a HAR file: it is not JSON (${error instanceof Error ? error.message : String(error)})`)
    }
  }
  const entries = field(field(value, 'log'), 'entries')
  if (!Array.isArray(entries)) {
    throw new HarParseError(
      'not a HAR file: expected an object with log.entries (an array); export one from the browser ' +
        "network panel with \"Save all as HAR\"",
    )
  }
  return entries
}

function replayedHeaders(list: unknown): Record<string, string> {
  const headers: Record<string, string> = {}
  if (!Array.isArray(list)) return headers
  for (const item of list) {
    const name = stringField(item, 'name')
    let value = stringField(item, 'value')
    if (name === undefined || value === undefined || name.startsWith(':')) continue
    const lower = name.toLowerCase()
    if (DROPPED_HEADERS.has(lower)) continue
    if (lower === 'accept-encoding') {
      value = value
        .split(',')
        .map((coding) => coding.trim())
        .filter((coding) => DECODABLE_CODINGS.has(coding.split(';')[0]?.trim().toLowerCase() ?? ''))
        .join(', ')
      if (value === '') continue
    }
    const existing = findHeader(headers, name)
    if (existing === undefined) headers[name] = value
    else headers[existing] = `${headers[existing] ?? ''}, ${value}`
  }
  return headers
}

function requestBody(
  postData: unknown,
  headers: Record<string, string>,
  index: number,
  warn: (message: string) => void,
): RequestBody {
  if (postData === undefined || postData === null) return { kind: 'none' }
  const mimeType = stringField(postData, 'mimeType')
  const typeKey = findHeader(headers, 'content-type')
  if (typeKey === undefined && mimeType !== undefined && mimeType !== '') headers['Content-Type'] = mimeType
  const contentType = typeKey === undefined ? mimeType : headers[typeKey]
  const text = stringField(postData, 'text')
  if (text !== undefined) return classifyBody(Buffer.from(text, 'utf8'), contentType)
  const params = field(postData, 'params')
  if (Array.isArray(params) && params.length > 0) {
    if (contentType !== undefined && /^application\/x-www-form-urlencoded\b/i.test(contentType)) {
      const search = new URLSearchParams()
      for (const param of params) search.append(stringField(param, 'name') ?? '', stringField(param, 'value') ?? '')
      return classifyBody(Buffer.from(search.toString()), contentType)
    }
    warn(`entry ${index}: the body was recorded as parameters without its text; it is sent empty`)
  }
  return { kind: 'none' }
}

function requestCookies(request: unknown): [string, string][] {
  const list = field(request, 'cookies')
  if (Array.isArray(list) && list.length > 0) {
    return list.flatMap((cookie): [string, string][] => {
      const name = stringField(cookie, 'name')
      const value = stringField(cookie, 'value')
      return name === undefined || name === '' || value === undefined ? [] : [[name, value]]
    })
  }
  const headers = field(request, 'headers')
  if (!Array.isArray(headers)) return []
  const cookies: [string, string][] = []
  for (const header of headers) {
    if (stringField(header, 'name')?.toLowerCase() !== 'cookie') continue
    for (const pair of (stringField(header, 'value') ?? '').split(';')) {
      const eq = pair.indexOf('=')
      if (eq > 0) cookies.push([pair.slice(0, eq).trim(), pair.slice(eq + 1).trim()])
    }
  }
  return cookies
}

function responseCookieNames(response: unknown): string[] {
  const names: string[] = []
  const cookies = field(response, 'cookies')
  if (Array.isArray(cookies)) {
    for (const cookie of cookies) {
      const name = stringField(cookie, 'name')
      if (name !== undefined) names.push(name)
    }
  }
  const headers = field(response, 'headers')
  if (Array.isArray(headers)) {
    for (const header of headers) {
      if (stringField(header, 'name')?.toLowerCase() !== 'set-cookie') continue
      // Firefox joins several Set-Cookie headers with newlines in one value.
      for (const line of (stringField(header, 'value') ?? '').split('\n')) {
        const eq = line.indexOf('=')
        if (eq > 0) names.push(line.slice(0, eq).trim())
      }
    }
  }
  return names
}

function normalizePattern(pattern: string): string {
  const trimmed = pattern.trim().toLowerCase()
  if (!trimmed.includes('://')) return trimmed
  try {
    return new URL(trimmed).host
  } catch {
    return trimmed
  }
}

function hostMatches(url: URL, pattern: string): boolean {
  const hostname = url.hostname.toLowerCase()
  if (pattern.startsWith('*.')) {
    const domain = pattern.slice(2)
    return hostname === domain || hostname.endsWith(`.${domain}`)
  }
  return pattern === hostname || pattern === url.host.toLowerCase()
}

function field(value: unknown, name: string): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[name] : undefined
}

function stringField(value: unknown, name: string): string | undefined {
  const found = field(value, name)
  return typeof found === 'string' ? found : undefined
}
