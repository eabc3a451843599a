import { inputValue, metaContent, tagsNamed } from '../../util/html-fields.js'
import type { Extraction, RequestSpec, Substitution } from '../request-spec.js'

/** What the recording says a response carried: where later requests' values may come from. */
export interface RecordedResponse {
  status: number
  /** The Location header resolved against the request URL, if any. */
  location?: string
  /** Cookies the response set: [name, value]. */
  setCookies: [string, string][]
  /** The body as text (decoded from base64 when recorded so), if recorded. */
  text?: string
}

/** A request being generated, with its recorded response. */
export interface Correlatable {
  spec: RequestSpec
  response: RecordedResponse | undefined
}

/** Header values never correlated: the browser's own, or ones that follow --server-url. */
const PLAIN_HEADERS = /^(?:origin|referer|user-agent|accept(?:-.*)?|sec-.*|content-type|cache-control|pragma|x-requested-with|upgrade-insecure-requests|dnt|priority)$/i

/**
 * Automatic correlation: finds each value a request sends that an earlier recorded response
 * delivered (a CSRF token in a form field, a meta tag, a cookie or JSON; an id a POST created,
 * in its JSON or its Location; where a redirect pointed) and arranges for the generated test to
 * take it from the live response instead: an `extract` on the source request, a substitution on
 * every request that sends it. A source is accepted only when reading the recorded response the
 * way the generated test will read the live one gives back exactly the recorded value. Values the
 * client sent before the response that carries them (what the user typed, echoed back) are not
 * correlated. Mutates the specs; returns how many values were correlated.
 */
export function correlate(items: readonly Correlatable[]): number {
  const known = new Map<string, string>()
  const sentLiterally = new Set<string>()
  const names: Names = { taken: new Set(), next: new Map() }
  // Value → the latest response that offers it, and how: one pass over each response, so the
  // whole correlation is linear in the recording's size.
  const strongOffers = new Map<string, { from: number; found: Found }>()
  const weakOffers = new Map<string, { from: number; found: Found }>()
  let count = 0
  // Cookies seeded before the first request (the recording began with them) are in the jar from
  // then on: a header echoing one (double submit) reads it there, as it would a cookie set later.
  for (const [name, value] of items[0]?.spec.cookies ?? []) {
    strongOffers.set(value, { from: 0, found: { name, kind: 'cookie', args: [name], where: `the cookie ${name} the recording began with, in the jar after` } })
  }

  items.forEach((item, i) => {
    const spec = item.spec
    const previous = items[i - 1]
    const location = previous?.response?.location
    if (previous !== undefined && location !== undefined && previous.response !== undefined && previous.response.status >= 300 && previous.response.status < 400 && sameUrl(location, spec.url)) {
      const variable = unique(names, 'location')
      addExtraction(previous, { variable, kind: 'location', args: [], note: `${variable}: where the response to ${describe(previous.spec)} redirects (recorded ${location})` })
      spec.urlFrom = variable
      count++
    }
    const subs: Substitution[] = []
    for (const candidate of candidatesOf(spec)) {
      if (subs.some((s) => s.recorded === candidate.value)) continue
      const variable = known.get(candidate.value)
      if (variable !== undefined) {
        subs.push({ recorded: candidate.value, variable, ...(candidate.weak ? { wholeSegment: true } : {}) })
        continue
      }
      if (sentLiterally.has(candidate.value)) continue
      const offer = (candidate.weak ? weakOffers : strongOffers).get(candidate.value) ?? (candidate.weak ? undefined : nearbyText(items, i, candidate.value))
      if (offer === undefined || offer.from >= i) continue
      const source = items[offer.from]!
      const found = offer.found
      const name = unique(names, found.name)
      addExtraction(source, {
        variable: name,
        kind: found.kind,
        args: found.args,
        note: `${name}: ${found.where} the response to ${describe(source.spec)} (recorded ${JSON.stringify(shorten(candidate.value))})`,
      })
      known.set(candidate.value, name)
      subs.push({ recorded: candidate.value, variable: name, ...(candidate.weak ? { wholeSegment: true } : {}) })
      count++
    }
    // Known values elsewhere in the request (a Referer naming the item page, say) go live too:
    // each piece of its text between delimiters is looked up, so this stays linear.
    for (const piece of piecesOf(spec)) {
      const variable = known.get(piece)
      if (variable !== undefined && piece.length >= 8 && !subs.some((s) => s.recorded === piece)) subs.push({ recorded: piece, variable })
    }
    if (subs.length > 0) spec.substitute = [...(spec.substitute ?? []), ...subs].sort((a, b) => b.recorded.length - a.recorded.length)
    for (const candidate of candidatesOf(spec)) if (!known.has(candidate.value)) sentLiterally.add(candidate.value)
    // This response now offers its values to the requests after it; a later offer of the same
    // value replaces an earlier one (the most recent response is where a browser took it from).
    if (item.response !== undefined) {
      for (const found of offersOf(item.response)) {
        strongOffers.set(found.value, { from: i, found })
        if (found.weakOk) weakOffers.set(found.value, { from: i, found })
      }
    }
  })
  return count
}

interface Candidate {
  value: string
  /** A short id: only ever replaced as a whole path segment or whole value. */
  weak: boolean
}

interface Found {
  name: string
  kind: Extraction['kind']
  args: Extraction['args']
  where: string
}

/** Every value a recorded response offers, and how a test reads it, lowest priority first. */
function offersOf(response: RecordedResponse): (Found & { value: string; weakOk: boolean })[] {
  const offers: (Found & { value: string; weakOk: boolean })[] = []
  if (response.location !== undefined) {
    const segments = new URL(response.location).pathname.split('/')
    segments.forEach((segment, index) => {
      if (index === 0 || segment === '') return
      const before = segments[index - 1] ?? ''
      const name = before === '' ? 'id' : `${before.replace(/s$/, '')}_id`
      offers.push({ value: safeDecode(segment), weakOk: true, name, kind: 'locationSegment', args: [index], where: `path segment ${index} of the Location in` })
    })
  }
  const text = response.text
  if (text !== undefined && /^\s*[[{]/.test(text)) {
    let json: unknown
    try {
      json = JSON.parse(text)
    } catch {
      json = undefined
    }
    // Deepest first, so the shallowest path to a value is the one kept.
    for (const { path, value, idKey } of jsonLeafPaths(json).reverse()) {
      const last = [...path].reverse().find((step): step is string => typeof step === 'string') ?? 'value'
      offers.push({ value, weakOk: idKey, name: last, kind: 'json', args: [path], where: `JSON ${formatPath(path)} in` })
    }
  }
  if (text !== undefined && /<(?:input|meta)\b/i.test(text)) {
    for (const tag of tagsNamed(text, 'meta').reverse()) {
      const name = tag.get('name') ?? tag.get('property') ?? tag.get('http-equiv')
      const value = tag.get('content')
      if (name !== undefined && value !== undefined && metaContent(text, name) === value) offers.push({ value, weakOk: false, name, kind: 'meta', args: [name], where: `the <meta name="${name}"> in` })
    }
    for (const tag of tagsNamed(text, 'input').reverse()) {
      const name = tag.get('name')
      const value = tag.get('value')
      if (name !== undefined && value !== undefined && inputValue(text, name) === value) offers.push({ value, weakOk: false, name, kind: 'formField', args: [name], where: `the <input name="${name}"> in` })
    }
  }
  for (const [name, value] of [...response.setCookies].reverse()) {
    offers.push({ value, weakOk: false, name, kind: 'cookie', args: [name], where: `the cookie ${name} set by` })
  }
  return offers
}

/** How many earlier responses the text fallback searches (it reads whole bodies). */
const TEXT_LOOKBACK = 8

/**
 * The fallback for a token in a body that is neither HTML fields nor JSON (a script, a URL in
 * text): the shortest left boundary (4 to 32 characters) and the one character after it that
 * find it first in the recorded body. Searches only the few responses before `i`.
 */
function nearbyText(items: readonly Correlatable[], i: number, value: string): { from: number; found: Found } | undefined {
  if (value.length < 8) return undefined
  for (let j = i - 1; j >= 0 && j >= i - TEXT_LOOKBACK; j--) {
    const text = items[j]!.response?.text
    if (text === undefined) continue
    const at = text.indexOf(value)
    if (at <= 0) continue
    const right = text.slice(at + value.length, at + value.length + 1)
    if (right === '') continue
    for (let size = 4; size <= 32 && size <= at; size += 4) {
      const left = text.slice(at - size, at)
      if (left.includes(value)) break
      if (between(text, left, right) === value) return { from: j, found: { name: 'value', kind: 'between', args: [left, right], where: `the text between ${JSON.stringify(left)} and ${JSON.stringify(right)} in` } }
    }
  }
  return undefined
}

/** The values a request sends that may have come from a server: URL parts, headers, body fields. */
function candidatesOf(spec: RequestSpec): Candidate[] {
  const out: Candidate[] = []
  const add = (value: string, segment: boolean): void => {
    if (looksMade(value)) out.push({ value, weak: false })
    else if (segment && /^\d{1,15}$/.test(value)) out.push({ value, weak: true })
  }
  let url: URL | undefined
  try {
    url = new URL(spec.url)
  } catch {
    url = undefined
  }
  if (url !== undefined) {
    for (const segment of url.pathname.split('/')) if (segment !== '') add(safeDecode(segment), true)
    for (const [, value] of url.searchParams) add(value, true)
  }
  for (const [name, value] of Object.entries(spec.headers)) {
    if (PLAIN_HEADERS.test(name)) continue
    add(value, false)
    const bearer = /^(?:Bearer|Token)\s+(\S+)$/i.exec(value)
    if (bearer !== null) add(bearer[1]!, false)
  }
  const body = spec.body
  if (body.kind === 'form') for (const value of Object.values(body.fields)) add(value, true)
  else if (body.kind === 'json') for (const value of jsonLeaves(body.value)) add(value, true)
  else if (body.kind === 'text') {
    for (const match of body.text.matchAll(/name="[^"]*"\r\n\r\n([^\r]*)\r\n/g)) add(match[1] ?? '', false)
  }
  return out.sort((a, b) => b.value.length - a.value.length)
}

/** Server-made values look like tokens: 8+ characters with a digit, or 16+ of anything. */
function looksMade(value: string): boolean {
  if (value.length >= 16 && value.length <= 4096) return !/\s/.test(value)
  return value.length >= 8 && /\d/.test(value) && /^[\w.~+/=:-]+$/.test(value)
}

function jsonLeaves(value: unknown): string[] {
  if (typeof value === 'string') return [value]
  if (typeof value === 'number' && Number.isInteger(value)) return [String(value)]
  if (Array.isArray(value)) return value.flatMap(jsonLeaves)
  if (typeof value === 'object' && value !== null) return Object.values(value).flatMap(jsonLeaves)
  return []
}

/** Every string or integer leaf of a JSON document with its path, breadth-first (bounded). */
function jsonLeafPaths(root: unknown): { path: (string | number)[]; value: string; idKey: boolean }[] {
  const leaves: { path: (string | number)[]; value: string; idKey: boolean }[] = []
  const queue: [unknown, (string | number)[]][] = [[root, []]]
  for (let head = 0; head < queue.length && head < 10_000; head++) {
    const [node, path] = queue[head]!
    const last = path.at(-1)
    const idKey = typeof last === 'string' && /(?:^|_)id$|Id$/.test(last)
    if (typeof node === 'string') leaves.push({ path, value: node, idKey })
    else if (typeof node === 'number' && Number.isSafeInteger(node)) leaves.push({ path, value: String(node), idKey })
    else if (Array.isArray(node)) node.forEach((child, index) => queue.push([child, [...path, index]]))
    else if (typeof node === 'object' && node !== null) for (const [key, child] of Object.entries(node)) queue.push([child, [...path, key]])
  }
  return leaves
}

function between(text: string, left: string, right: string): string | undefined {
  const start = text.indexOf(left)
  const end = start === -1 ? -1 : text.indexOf(right, start + left.length)
  return end === -1 ? undefined : text.slice(start + left.length, end)
}

function addExtraction(item: Correlatable, extraction: Extraction): void {
  item.spec.extract = [...(item.spec.extract ?? []), extraction]
}

/** Variable names taken, and for each base name the next number to try (so naming stays linear). */
interface Names {
  taken: Set<string>
  next: Map<string, number>
}

function unique(names: Names, wanted: string): string {
  let base = wanted.replace(/[^A-Za-z0-9_$]+/g, '_').replace(/^_+|_+$/g, '')
  if (base === '' || /^\d/.test(base)) base = `v_${base}`
  if (RESERVED.has(base)) base = `${base}_value`
  let name = base
  for (let n = names.next.get(base) ?? 2; names.taken.has(name); n++) {
    name = `${base}${n}`
    names.next.set(base, n + 1)
  }
  names.taken.add(name)
  return name
}

/** The pieces of a request's text between URL and header delimiters, where a known value may sit. */
function piecesOf(spec: RequestSpec): Set<string> {
  const texts = [spec.url, ...Object.values(spec.headers)]
  if (spec.body.kind === 'text') texts.push(spec.body.text)
  const pieces = new Set<string>()
  for (const text of texts) for (const piece of text.split(/[/?&=;,\s"'<>()[\]{}#]+/)) if (piece !== '') pieces.add(safeDecode(piece))
  return pieces
}

const RESERVED = new Set(['this', 'origin', 'extract', 'await', 'let', 'const', 'var', 'class', 'new', 'delete', 'function', 'return', 'default', 'import', 'export', 'in', 'of', 'do', 'if', 'for', 'while', 'switch', 'case', 'try', 'catch', 'finally', 'throw', 'void', 'typeof', 'instanceof', 'yield', 'super', 'null', 'true', 'false', 'with', 'enum', 'static', 'row'])

function sameUrl(a: string, b: string): boolean {
  try {
    return new URL(a).href === new URL(b).href
  } catch {
    return false
  }
}

function describe(spec: RequestSpec): string {
  try {
    const url = new URL(spec.url)
    return `${spec.method} ${url.pathname}${url.search}`
  } catch {
    return `${spec.method} ${spec.url}`
  }
}

function formatPath(path: readonly (string | number)[]): string {
  return path.map((step) => (typeof step === 'number' ? `[${step}]` : `.${step}`)).join('') || '(the document)'
}

function shorten(value: string): string {
  return value.length > 40 ? `${value.slice(0, 37)}…` : value
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment)
  } catch {
    return segment
  }
}
