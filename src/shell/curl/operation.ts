import { classifyBody, findHeader, stripFragment } from '../request-spec.js'
import type { RequestSpec } from '../request-spec.js'
import { CurlParseError, describePosition } from './curl-parse-error.js'
import { buildMultipart } from './multipart.js'
import type { FormPart } from './multipart.js'

/** Everything one curl "operation" (up to --next) says about its requests. */
export interface Operation {
  urls: { url: string; position: number }[]
  method: string | undefined
  headers: [string, string | null][]
  data: Buffer[]
  dataSeen: boolean
  json: boolean
  form: FormPart[]
  user: string | undefined
  /** `-b` arguments as given (`a=b; c`), sent as curl sends them: one Cookie header. */
  cookies: string[]
  /** `-T` files (already read), paired with the URLs in order as curl pairs them. */
  uploads: { name: string; bytes: Buffer }[]
  pathAsIs: boolean
  userAgent: string | undefined
  referer: string | undefined
  range: string | undefined
  bearer: string | undefined
  query: string[]
  location: boolean
  insecure: boolean
  compressed: boolean
  get: boolean
  head: boolean
  globoff: boolean
  timeoutMs: number | undefined
  notes: string[]
}

export function newOperation(): Operation {
  return {
    urls: [], method: undefined, headers: [], data: [], dataSeen: false, json: false, form: [],
    user: undefined, cookies: [], uploads: [], pathAsIs: false, userAgent: undefined, referer: undefined, range: undefined,
    bearer: undefined, query: [], location: false, insecure: false, compressed: false, get: false,
    head: false, globoff: false, timeoutMs: undefined, notes: [],
  }
}

/** What turning an operation into requests needs from the command around it. */
export interface OperationContext {
  /** The whole command text, for positions in messages. */
  input: string
  /** Records a remark on the operation (and tells the caller's onWarning). */
  note: (message: string) => void
  /** True for the last operation after a --next: it may be empty (`curl … --next`). */
  trailing: boolean
}

/**
 * Requests for one operation, one per URL: curl's method inference, the headers curl adds by
 * itself (overridden or removed by -H), the body, and the URL with -G data and --url-query.
 */
export function toRequests(op: Operation, context: OperationContext): RequestSpec[] {
  if (op.urls.length === 0) {
    if (context.trailing && isEmpty(op)) return []
    throw new CurlParseError('the curl command has no URL')
  }
  if (op.form.length > 0 && op.dataSeen) {
    throw new CurlParseError('curl refuses to mix -F (multipart) with -d (data) in one request; so do we', {
      option: '-F',
    })
  }
  if (op.head && op.dataSeen && !op.get) {
    throw new CurlParseError('-I (HEAD) and -d (POST data) conflict, as curl says; add -G to send the data in the query', {
      option: '-I',
    })
  }
  if (op.uploads.length > 0 && (op.dataSeen || op.form.length > 0)) {
    throw new CurlParseError('-T (upload a file) cannot be mixed with -d or -F in one request, as curl says', { option: '-T' })
  }
  if (op.get && op.form.length > 0) {
    throw new CurlParseError('-G cannot move a multipart -F form into the query', { option: '-G' })
  }
  return op.urls.map(({ url, position }, index) => toRequest(op, context, url, position, op.uploads[index]))
}

function toRequest(
  op: Operation,
  context: OperationContext,
  rawUrl: string,
  position: number,
  upload: { name: string; bytes: Buffer } | undefined,
): RequestSpec {
  const checked = checkUrl(context, rawUrl, position, op.globoff, op.pathAsIs)
  let url = checked.url
  // curl -T file https://host/dir/ uploads to /dir/file.
  if (upload !== undefined && upload.name !== '' && /^[a-z]+:\/\/[^/?]*\/(?:[^?]*\/)?$/i.test(url)) url += encodeURIComponent(upload.name)
  const queryParts = [...op.query]
  if (op.get && op.dataSeen) queryParts.push(Buffer.concat(op.data).toString('utf8'))
  const query = queryParts.filter((part) => part !== '').join('&')
  if (query !== '') url += (url.includes('?') ? (url.endsWith('?') || url.endsWith('&') ? '' : '&') : '?') + query

  let method = 'GET'
  if (op.head) method = 'HEAD'
  else if (upload !== undefined) method = 'PUT'
  else if ((op.dataSeen && !op.get) || op.form.length > 0) method = 'POST'
  if (op.method !== undefined) method = op.method

  // Headers curl adds by itself; -H entries override or (with an empty value) remove them.
  const internal: [string, string][] = []
  if (op.bearer !== undefined) internal.push(['Authorization', `Bearer ${op.bearer}`])
  if (op.userAgent !== undefined && op.userAgent !== '') internal.push(['User-Agent', op.userAgent])
  if (op.referer !== undefined && op.referer !== '') internal.push(['Referer', op.referer])
  // curl asks for a range on a GET or HEAD only; an upload says which range it is (below).
  const sendsData = op.dataSeen && !op.get
  if (op.range !== undefined && !sendsData && op.form.length === 0) internal.push(['Range', `bytes=${op.range}`])
  if (op.compressed) internal.push(['Accept-Encoding', 'gzip, deflate, br'])
  if (op.cookies.length > 0) internal.push(['Cookie', op.cookies.join('; ')])

  let body: Buffer | undefined
  if (upload !== undefined) {
    body = upload.bytes
  } else if (op.form.length > 0) {
    const multipart = buildMultipart(op.form)
    body = multipart.body
    internal.push(['Content-Type', `multipart/form-data; boundary=${multipart.boundary}`])
  } else if (sendsData) {
    body = Buffer.concat(op.data)
    if (op.json) internal.push(['Content-Type', 'application/json'], ['Accept', 'application/json'])
    else internal.push(['Content-Type', 'application/x-www-form-urlencoded'])
    if (op.range !== undefined) internal.push(['Content-Range', `bytes ${op.range}/${body.length}`])
  }

  // Keyed by lower-case name so that thousands of -H stay linear; the first spelling is kept.
  const merged = new Map<string, { name: string; values: string[] }>()
  const removed = new Set<string>()
  for (const [name, value] of op.headers) {
    const lower = name.toLowerCase()
    if (value === null) {
      merged.delete(lower)
      removed.add(lower)
      continue
    }
    const existing = merged.get(lower)
    if (existing === undefined) merged.set(lower, { name, values: [value] })
    else existing.values.push(value)
  }
  if (op.cookies.length > 0 && merged.has('cookie')) {
    context.note('-b cookies not sent: a -H Cookie header is given, and curl then sends only that header')
  }
  for (const [name, value] of internal) {
    const lower = name.toLowerCase()
    if (removed.has(lower)) continue
    const existing = merged.get(lower)
    if (existing === undefined) merged.set(lower, { name, values: [value] })
    else if (lower === 'content-type' && op.form.length > 0 && !/boundary=/i.test(existing.values.join(', '))) {
      // As curl does: a custom multipart type without a boundary gets ours appended.
      existing.values[existing.values.length - 1] += `; ${value.slice(value.indexOf('boundary='))}`
    }
  }
  const headers: Record<string, string> = {}
  for (const [lower, { name, values }] of merged) headers[name] = values.join(lower === 'cookie' ? '; ' : ', ')

  const spec: RequestSpec = {
    method,
    url,
    headers,
    body: body === undefined ? { kind: 'none' } : classifyBody(body, headerOf(headers, 'content-type')),
    allowRedirects: op.location,
    insecure: op.insecure,
  }
  // curl's -u wins over credentials in the URL; both become basic auth, which --server-url keeps.
  // What the session adds by itself and curl would not send: its defaults removed with -H 'Name:',
  // and content-length: 0 on a POST, PUT or PATCH without a body.
  const unset = [...removed].filter((lower) => SESSION_DEFAULTS.has(lower))
  if (body === undefined && /^(?:POST|PUT|PATCH|QUERY|PROPFIND|PROPPATCH)$/.test(method)) unset.push('content-length')
  if (unset.length > 0) spec.unsetHeaders = unset
  if (op.user !== undefined) spec.auth = splitUser(op.user)
  else if (checked.auth !== undefined) spec.auth = checked.auth
  if (op.timeoutMs !== undefined) spec.timeoutMs = op.timeoutMs
  if (checked.pathAsIs === true) spec.pathAsIs = true
  const notes = [...op.notes]
  if (op.compressed) notes.push('--compressed: asks for compressed responses; the session decodes them')
  if (op.insecure) notes.push('-k: TLS certificates are not verified (static insecure = true)')
  if (notes.length > 0) spec.notes = notes
  return spec
}

function checkUrl(
  context: OperationContext,
  raw: string,
  position: number,
  globoff: boolean,
  pathAsIs: boolean,
): { url: string; auth?: readonly [string, string]; pathAsIs?: true } {
  let url = raw.trim()
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(url)?.[1]
  if (scheme === undefined) url = `http://${url}`
  else if (!/^https?$/i.test(scheme)) {
    throw new CurlParseError(`${JSON.stringify(raw)}: only http:// and https:// URLs can be load-tested`, { position })
  }
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new CurlParseError(
      `${JSON.stringify(raw)} at ${describePosition(context.input, position)} is not a URL (an option's value missing?)`,
      { position },
    )
  }
  const afterHost = url.replace(/^[a-z]+:\/\/(?:\[[^\]]*\])?/i, '')
  if (!globoff && /\{[^{}]*,[^{}]*\}|\[[0-9a-z]+-[0-9a-z]+(?::\d+)?\]/i.test(afterHost)) {
    context.note(`${raw}: curl would expand this URL glob; it is sent literally (add -g to say so)`)
  }
  // Only a path with . or .. segments is sent differently as written: say so only then.
  const path = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*([^?#]*)/i.exec(url)?.[1] ?? ''
  const asIs = pathAsIs && /(?:^|\/)\.{1,2}(?:\/|$)/.test(path)
  let auth: readonly [string, string] | undefined
  if (parsed.username !== '' || parsed.password !== '') {
    // user:pass@ goes into basic auth, so that the URL can be written relative to serverUrl.
    auth = [decodeURIComponent(parsed.username), decodeURIComponent(parsed.password)]
    url = url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^@/?#]*@/i, '$1')
  }
  url = stripFragment(url)
  return { url, ...(auth !== undefined ? { auth } : {}), ...(asIs ? { pathAsIs: true } : {}) }
}

/** Headers the session sends unless told not to (its DEFAULT_HEADERS), lower-case. */
const SESSION_DEFAULTS = new Set(['accept', 'user-agent'])

function isEmpty(op: Operation): boolean {
  return op.urls.length === 0 && op.headers.length === 0 && !op.dataSeen && op.form.length === 0
}

function headerOf(headers: Record<string, string>, name: string): string | undefined {
  const key = findHeader(headers, name)
  return key === undefined ? undefined : headers[key]
}

function splitUser(user: string): readonly [string, string] {
  const colon = user.indexOf(':')
  if (colon === -1) {
    throw new CurlParseError(
      `-u ${JSON.stringify(user)} has no password: curl would prompt for it; write -u '${user}:password'`,
      { option: '-u' },
    )
  }
  return [user.slice(0, colon), user.slice(colon + 1)]
}
