import { formsIn, type HtmlForm } from '../../util/html-fields.js'
import { stripFragment } from '../request-spec.js'
import type { RequestSpec } from '../request-spec.js'
import { cacheHit } from './cache-hits.js'
import { correlate, type Correlatable, type RecordedResponse } from './correlate.js'
import { harRequestBody } from './har-body.js'
import { field, readHarEntries, stringField, type HarEntry } from './har-entries.js'
import { replayedHeaders } from './har-headers.js'
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
  /** Send If-None-Match, If-Modified-Since and the other conditional headers as recorded. */
  keepConditional?: boolean
  /** Pause before each page as long as the user did (`--think recorded`). */
  thinkRecorded?: boolean
  /** Group requests by recorded page (`log.pages`, `pageref`); default true. */
  groupPages?: boolean
  /** Take server-made values from live responses (automatic correlation); default true. */
  correlate?: boolean
  /** Hears what was dropped and why. */
  onWarning?: (message: string) => void
}

/** Pauses shorter than this are the browser's, not the user's (`--think recorded`). */
const MIN_THINK_MS = 50

/**
 * Reads a HAR (HTTP Archive, as browsers export it) into requests in the order the browser sent
 * them, leaving out static assets (unless includeStatic), requests to hosts not in `include`,
 * cache hits the browser never sent (Chrome, Firefox, Safari and Playwright marks), non-HTTP
 * entries and unreadable entries (each with a warning). Values the server made and a later
 * request sent back are correlated (see correlate.ts). Redirects are not followed on replay: the
 * HAR holds every hop as its own entry. Throws HarParseError only when the input is not a HAR.
 */
export function parseHar(json: string | unknown, options: ParseHarOptions = {}): HarRequest[] {
  const warn = (message: string): void => options.onWarning?.(message)
  const { entries, pages, creator } = readHarEntries(json, warn)
  const include = options.include?.map(normalizePattern)
  const pageTitles = new Map(pages.map((page) => [page.id, page.title]))
  const serverCookies = new Set<string>()
  const seeds: [string, string][] = []
  const skipped = { static: 0, host: 0, cache: 0, scheme: 0 }
  const kept: (Correlatable & { spec: HarRequest; entry: HarEntry })[] = []
  const forms: { url: string; form: HtmlForm; entry: number }[] = []
  let lastEndMs = Number.NaN
  let lastPage: string | undefined
  let pendingThinkMs = 0

  for (const harEntry of entries) {
    const { entry, request, method, url, index } = harEntry
    const response = field(entry, 'response')
    const endMs = harEntry.startedMs + numberOr(field(entry, 'time'), 0)
    const pageref = stringField(entry, 'pageref')
    const resourceType = stringField(entry, '_resourceType')
    const newPage = (pageref !== undefined && pageref !== lastPage) || resourceType === 'document'
    const gapMs = Math.round(harEntry.startedMs - lastEndMs)
    if (gapMs >= MIN_THINK_MS && (newPage || (pageref === undefined && resourceType === undefined && gapMs >= 1000))) pendingThinkMs += gapMs
    if (!Number.isNaN(endMs)) lastEndMs = Number.isNaN(lastEndMs) ? endMs : Math.max(lastEndMs, endMs)
    if (pageref !== undefined) lastPage = pageref

    // Every entry the browser sent (kept or not) says which cookies the server set before.
    const sent = requestCookies(request)
    const wentOut = cacheHit(entry, creator) === undefined && (url.protocol === 'http:' || url.protocol === 'https:')
    if (wentOut) {
      for (const [name, value] of sent) {
        if (serverCookies.has(name) || seeds.some(([n]) => n === name)) continue
        seeds.push([name, value])
      }
    }
    const recorded = recordedResponse(response, url)
    if (wentOut) for (const [name] of recorded.setCookies) serverCookies.add(name)

    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      skipped.scheme++
      continue
    }
    if (!wentOut) {
      skipped.cache++
      continue
    }
    if (include !== undefined && !include.some((pattern) => hostMatches(url, pattern))) {
      skipped.host++
      continue
    }
    const mimeType = stringField(field(response, 'content'), 'mimeType')
    if (options.includeStatic !== true && isStaticAsset({ method, url: url.href, mimeType, resourceType })) {
      skipped.static++
      continue
    }

    const { headers, lists } = replayedHeaders(field(request, 'headers'), index, { keepConditional: options.keepConditional === true }, warn)
    const { body, notes } = harRequestBody(field(request, 'postData'), headers, {
      index,
      url: stripFragment(url.href),
      bodySize: Math.max(numberOr(field(request, 'bodySize'), -1), recordedContentLength(field(request, 'headers'))),
      formFor: (target) => forms.findLast((f) => f.url === target),
      warn,
    })
    const spec: HarRequest = {
      method,
      url: stripFragment(url.href),
      headers,
      body,
      allowRedirects: false,
      insecure: false,
    }
    if (notes.length > 0) spec.notes = notes
    if (Object.keys(lists).length > 0) spec.headerLists = lists
    if (recorded.status > 0) spec.status = recorded.status
    if (options.groupPages !== false && pageref !== undefined) spec.group = pageTitles.get(pageref) ?? pageref
    if (options.thinkRecorded === true && pendingThinkMs > 0 && kept.length > 0) spec.thinkMs = pendingThinkMs
    pendingThinkMs = 0
    kept.push({ spec, response: recorded, entry: harEntry })
    if (recorded.text !== undefined && /<form\b/i.test(recorded.text)) {
      for (const form of formsIn(recorded.text)) {
        try {
          forms.push({ url: new URL(form.action, url).href, form, entry: index })
        } catch {
          // An action that is not a URL posts nowhere a replay could follow.
        }
      }
    }
  }

  const first = kept[0]
  if (first !== undefined && seeds.length > 0) first.spec.cookies = seeds
  if (options.correlate !== false) correlate(kept)
  if (skipped.static > 0) warn(`left out ${skipped.static} static asset request(s) (scripts, styles, images, fonts, media); --include-static keeps them`)
  if (skipped.host > 0) warn(`left out ${skipped.host} request(s) to hosts not included`)
  if (skipped.cache > 0) warn(`left out ${skipped.cache} request(s) the browser answered from its cache`)
  if (skipped.scheme > 0) warn(`left out ${skipped.scheme} non-HTTP entr(ies) (data:, blob:, ws:, extensions)`)
  return kept.map((item) => item.spec)
}

export { HarParseError }

function recordedResponse(response: unknown, url: URL): RecordedResponse {
  const status = numberOr(field(response, 'status'), 0)
  const setCookies: [string, string][] = []
  let location: string | undefined
  const cookies = field(response, 'cookies')
  if (Array.isArray(cookies)) {
    for (const cookie of cookies) {
      const name = stringField(cookie, 'name')
      if (name !== undefined) setCookies.push([name, stringField(cookie, 'value') ?? ''])
    }
  }
  const headers = field(response, 'headers')
  if (Array.isArray(headers)) {
    for (const header of headers) {
      const name = stringField(header, 'name')?.toLowerCase()
      const value = stringField(header, 'value') ?? ''
      if (name === 'location') location = value
      if (name !== 'set-cookie') continue
      // Firefox joins several Set-Cookie headers with newlines in one value.
      for (const line of value.split('\n')) {
        const pair = line.split(';')[0] ?? ''
        const eq = pair.indexOf('=')
        if (eq > 0 && !setCookies.some(([n, v]) => n === pair.slice(0, eq).trim() && v === pair.slice(eq + 1).trim())) {
          setCookies.push([pair.slice(0, eq).trim(), pair.slice(eq + 1).trim()])
        }
      }
    }
  }
  location ??= stringField(response, 'redirectURL') || undefined
  const recorded: RecordedResponse = { status, setCookies }
  if (location !== undefined) {
    try {
      recorded.location = new URL(location, url).href
    } catch {
      // A Location that is not a URL redirects nowhere a replay could follow.
    }
  }
  const content = field(response, 'content')
  const text = stringField(content, 'text')
  if (text !== undefined && text !== '') {
    recorded.text = stringField(content, 'encoding')?.toLowerCase() === 'base64' ? Buffer.from(text, 'base64').toString('utf8') : text
  }
  return recorded
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

/** The Content-Length the browser sent (Playwright writes bodySize 0 for bodies it did not keep). */
function recordedContentLength(headers: unknown): number {
  if (!Array.isArray(headers)) return -1
  const value = headers.find((header) => stringField(header, 'name')?.toLowerCase() === 'content-length')
  const length = Number(stringField(value, 'value'))
  return Number.isSafeInteger(length) && length >= 0 ? length : -1
}

function numberOr(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : fallback
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
