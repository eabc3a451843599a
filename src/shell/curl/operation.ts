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
  cookies: [string, string][]
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
    user: undefined, cookies: [], userAgent: undefined, referer: undefined, range: undefined,
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
  if (op.get && op.form.length > 0) {
    throw new CurlParseError('-G cannot move a multipart -F form into the query', { option: '-G' })
  }
  return op.urls.map(({ url, position }) => toRequest(op, context, url, position))
}

function toRequest(op: Operation, context: OperationContext, rawUrl: string, position: number): RequestSpec {
  let url = checkUrl(context, rawUrl, position, op.globoff)
  const queryParts = [...op.query]
  if (op.get && op.dataSeen) queryParts.push(Buffer.concat(op.data).toString('utf8'))
  const query = queryParts.filter((part) => part !== '').join('&')
  if (query !== '') url += (url.includes('?') ? (url.endsWith('?') || url.endsWith('&') ? '' : '&') : '?') + query

  let method = 'GET'
  if (op.head) method = 'HEAD'
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

  let body: Buffer | undefined
  if (op.form.length > 0) {
    const multipart = buildMultipart(op.form)
    body = multipart.body
    internal.push(['Content-Type', `multipart/form-data; boundary=${multipart.boundary}`])
  } else if (sendsData) {
    body = Buffer.concat(op.data)
    if (op.json) internal.push(['Content-Type', 'application/json'], ['Accept', 'application/json'])
    else internal.push(['Content-Type', 'application/x-www-form-urlencoded'])
    if (op.range !== undefined) internal.push(['Content-Range', `bytes ${op.range}/${body.length}`])
  }

  const headers: Record<string, string> = {}
  const removed = new Set<string>()
  for (const [name, value] of op.headers) {
    const existing = findHeader(headers, name)
    if (value === null) {
      if (existing !== undefined) delete headers[existing]
      removed.add(name.toLowerCase())
    } else if (existing !== undefined) {
      const separator = name.toLowerCase() === 'cookie' ? '; ' : ', '
      headers[existing] = `${headers[existing] ?? ''}${separator}${value}`
    } else {
      headers[name] = value
    }
  }
  for (const [name, value] of internal) {
    const existing = findHeader(headers, name)
    if (removed.has(name.toLowerCase())) continue
    if (existing === undefined) headers[name] = value
    else if (name === 'Content-Type' && op.form.length > 0 && !/boundary=/i.test(headers[existing] ?? '')) {
      // As curl does: a custom multipart type without a boundary gets ours appended.
      headers[existing] = `${headers[existing] ?? ''}; ${value.slice(value.indexOf('boundary='))}`
    }
  }

  const spec: RequestSpec = {
    method,
    url,
    headers,
    body: body === undefined ? { kind: 'none' } : classifyBody(body, headerOf(headers, 'content-type')),
    allowRedirects: op.location,
    insecure: op.insecure,
  }
  if (op.user !== undefined) spec.auth = splitUser(op.user)
  if (op.timeoutMs !== undefined) spec.timeoutMs = op.timeoutMs
  if (op.cookies.length > 0) spec.cookies = op.cookies.map(([name, value]) => [name, value] as const)
  const notes = [...op.notes]
  if (op.compressed) notes.push('--compressed: asks for compressed responses; the session decodes them')
  if (op.insecure) notes.push('-k: TLS certificates are not verified (static insecure = true)')
  if (notes.length > 0) spec.notes = notes
  return spec
}

function checkUrl(context: OperationContext, raw: string, position: number, globoff: boolean): string {
  let url = raw.trim()
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(url)?.[1]
  if (scheme === undefined) url = `http://${url}`
  else if (!/^https?$/i.test(scheme)) {
    throw new CurlParseError(`${JSON.stringify(raw)}: only http:// and https:// URLs can be load-tested`, { position })
  }
  try {
    new URL(url)
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
  return stripFragment(url)
}

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
