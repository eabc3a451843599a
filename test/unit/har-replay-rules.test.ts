import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { generateTestCase } from '../../src/shell/codegen.js'
import { parseHar, type ParseHarOptions } from '../../src/shell/har/parse.js'

/** A HAR of the given entries, each `{ request, response, …extra }` filled with what browsers always write. */
function har(entries: Record<string, unknown>[], creator = 'WebInspector'): string {
  return JSON.stringify({
    log: {
      version: '1.2',
      creator: { name: creator, version: '1' },
      entries: entries.map((e, i) => ({
        startedDateTime: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
        time: 10,
        ...e,
        request: { httpVersion: 'HTTP/1.1', headers: [], cookies: [], queryString: [], headersSize: -1, bodySize: -1, ...(e.request as object) },
        response: { status: 200, statusText: 'OK', httpVersion: 'HTTP/1.1', headers: [], cookies: [], content: { size: 0, mimeType: 'text/html' }, redirectURL: '', headersSize: -1, bodySize: -1, ...(e.response as object) },
      })),
    },
  })
}

const get = (url: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({ request: { method: 'GET', url }, ...extra })

function parse(text: string, options: ParseHarOptions = {}): { requests: ReturnType<typeof parseHar>; warnings: string[] } {
  const warnings: string[] = []
  const requests = parseHar(text, { ...options, onWarning: (w) => warnings.push(w) })
  return { requests, warnings }
}

describe('HAR: browser-aware filtering (item 5)', () => {
  it("leaves out each browser's cache hits: Chrome _fromCache, Safari _fetchType, Firefox cache.afterRequest, Playwright's zero transfer", () => {
    const { requests, warnings } = parse(har([
      get('https://a.test/sent'),
      get('https://a.test/chrome', { _fromCache: 'memory' }),
      get('https://a.test/safari', { _fetchType: 'Disk Cache' }),
      get('https://a.test/safari-net', { _fetchType: 'Network Load' }),
      get('https://a.test/firefox', { cache: { afterRequest: { expires: '2026-01-02T00:00:00Z', lastAccess: '', eTag: '', hitCount: 1 } } }),
      get('https://a.test/playwright', { response: { status: 200, _transferSize: 0 } }),
      get('https://a.test/revalidated', { response: { status: 200, _transferSize: 127 } }),
      get('https://a.test/blocked', { response: { status: 0, _transferSize: 0 } }),
    ]))
    expect(requests.map((r) => new URL(r.url).pathname)).toEqual(['/sent', '/safari-net', '/revalidated', '/blocked'])
    expect(warnings).toContain('left out 4 request(s) the browser answered from its cache')
  })

  it("reads Firefox's afterRequest: null as a cache hit only in a Firefox file (other tools write it on every entry)", () => {
    const entries = [get('https://a.test/x', { cache: { beforeRequest: null, afterRequest: null } })]
    expect(parse(har(entries, 'Firefox')).requests).toHaveLength(0)
    expect(parse(har(entries, 'Fiddler')).requests).toHaveLength(1)
  })

  it('keeps 4 requests of the Playwright recording with --include-static, the 4 stylesheet loads served from memory left out', () => {
    const text = readFileSync(new URL('../fixtures/har/journeys/revisit.har', import.meta.url), 'utf8')
    const all = parse(text, { includeStatic: true }).requests
    expect(all.map((r) => `${r.method} ${new URL(r.url).pathname}`)).toEqual([
      'GET /', 'GET /app.css', 'GET /login', 'POST /login', 'GET /items', 'GET /api/items', 'GET /items', 'GET /api/items',
    ])
  })

  it('replays entries in the order they started, not the order of the file', () => {
    const entries = [
      { ...get('https://a.test/second'), startedDateTime: '2026-01-01T00:00:02.000Z' },
      { ...get('https://a.test/first'), startedDateTime: '2026-01-01T00:00:01.000Z' },
      { ...get('https://a.test/third'), startedDateTime: '2026-01-01T00:00:03.000Z' },
    ]
    const text = JSON.stringify({ log: { entries: entries.map((e) => ({ ...e, request: { ...(e.request as object), headers: [] }, response: { status: 200, headers: [], content: {} } })) } })
    expect(parse(text).requests.map((r) => new URL(r.url).pathname)).toEqual(['/first', '/second', '/third'])
  })

  it("reads HAR Viewer's JSONP form, onInputData({...});", () => {
    const { requests } = parse(`onInputData(${har([get('https://a.test/jsonp')])});\n`)
    expect(requests.map((r) => r.url)).toEqual(['https://a.test/jsonp'])
  })
})

describe('HAR: faithful bodies (item 3)', () => {
  it('sends a base64 body byte for byte (534 bytes arrive as 534, not as its base64 text)', () => {
    const bytes = Buffer.from(Array.from({ length: 534 }, (_, i) => (i * 37 + 11) % 256))
    const { requests } = parse(har([{ request: { method: 'PUT', url: 'https://a.test/blob', bodySize: 534, postData: { mimeType: 'application/octet-stream', text: bytes.toString('base64'), encoding: 'base64' } } }]))
    const body = requests[0]!.body
    expect(body.kind).toBe('binary')
    expect(body.kind === 'binary' && Buffer.from(body.bytes).equals(bytes)).toBe(true)
  })

  it('uses params when text is empty (a form), and rebuilds a multipart body from params with the recorded boundary', () => {
    const { requests, warnings } = parse(har([
      { request: { method: 'POST', url: 'https://a.test/form', postData: { mimeType: 'application/x-www-form-urlencoded', text: '', params: [{ name: 'q', value: 'a b' }, { name: 'n', value: '1' }] } } },
      {
        request: {
          method: 'POST',
          url: 'https://a.test/upload',
          headers: [{ name: 'Content-Type', value: 'multipart/form-data; boundary=XyZ' }],
          postData: { mimeType: 'multipart/form-data; boundary=XyZ', params: [{ name: 'title', value: 'hi' }, { name: 'doc', fileName: 'a.txt', contentType: 'text/plain', value: 'file text' }, { name: 'pic', fileName: 'b.png', contentType: 'image/png' }] },
        },
      },
    ]))
    expect(requests[0]!.body).toEqual({ kind: 'form', fields: { q: 'a b', n: '1' } })
    expect(requests[1]!.body).toEqual({
      kind: 'text',
      text:
        '--XyZ\r\nContent-Disposition: form-data; name="title"\r\n\r\nhi\r\n' +
        '--XyZ\r\nContent-Disposition: form-data; name="doc"; filename="a.txt"\r\nContent-Type: text/plain\r\n\r\nfile text\r\n' +
        '--XyZ\r\nContent-Disposition: form-data; name="pic"; filename="b.png"\r\nContent-Type: image/png\r\n\r\nPLACEHOLDER for the file of field pic\n\r\n' +
        '--XyZ--\r\n',
    })
    expect(warnings).toContain('entry 1: the recording holds no content for the file of field "pic"; the generated test uploads a placeholder text: put the real file in')
  })

  it('stands in for a body the recording left out with as many zero bytes, a warning naming the entry and a PLACEHOLDER comment', () => {
    const { requests, warnings } = parse(har([{ request: { method: 'PUT', url: 'https://a.test/raw', bodySize: 534, postData: { mimeType: 'application/octet-stream', text: '' } } }]))
    expect(requests[0]!.body).toEqual({ kind: 'placeholder', size: 534 })
    expect(warnings[0]).toBe('entry 0: the recording kept none of its 534-byte body (browsers leave uploads and binary bodies out); it sends 534 zero bytes: put the real body in the generated test')
    const code = generateTestCase(requests)
    expect(code).toContain('// PLACEHOLDER: the recording kept none of this 534-byte body')
    expect(code).toContain('body: Buffer.alloc(534)')
  })
})

describe('HAR: faithful headers and cookies (item 4)', () => {
  const headers = (list: [string, string][]): Record<string, unknown> => ({ request: { method: 'GET', url: 'https://a.test/', headers: list.map(([name, value]) => ({ name, value })) } })

  it('drops hop-by-hop and browser-managed headers and, unless asked, conditional ones', () => {
    const entry = headers([
      ['Connection', 'keep-alive'], ['Keep-Alive', 'timeout=5'], ['TE', 'trailers'], ['Upgrade', 'h2c'], ['Host', 'a.test'], [':authority', 'a.test'],
      ['Content-Length', '0'], ['Cookie', 'a=b'], ['Proxy-Authorization', 'Basic x'], ['Expect', '100-continue'],
      ['If-None-Match', '"v1"'], ['If-Modified-Since', 'Wed, 01 Jan 2026 00:00:00 GMT'], ['Accept', 'text/html'],
    ])
    const plain = parse(har([entry]))
    expect(plain.requests[0]!.headers).toEqual({ Accept: 'text/html' })
    expect(plain.warnings).toContain("entry 0: left out 2 conditional header(s) (If-None-Match, If-Modified-Since, …) the browser's cache added; --keep-conditional sends them")
    expect(parse(har([entry]), { keepConditional: true }).requests[0]!.headers).toEqual({ 'If-None-Match': '"v1"', 'If-Modified-Since': 'Wed, 01 Jan 2026 00:00:00 GMT', Accept: 'text/html' })
  })

  it('leaves out a header with an invalid name (a WebPagetest export) with a warning, and replays the entry', () => {
    const { requests, warnings } = parse(har([headers([['Accept', '*/*'], ['bad name', 'x'], ['X-Ok', 'line\nbreak']])]))
    expect(requests[0]!.headers).toEqual({ Accept: '*/*' })
    expect(warnings).toEqual(['entry 0: header "bad name" is not a valid header name; left out', 'entry 0: header X-Ok has a line break or NUL in its value; left out'])
  })

  it('sends a header recorded twice as two field lines, not one joined with ", "', () => {
    const { requests } = parse(har([headers([['X-Tag', 'a'], ['Accept', '*/*'], ['x-tag', 'b']])]))
    expect(requests[0]!.headers).toEqual({ 'X-Tag': 'a, b', Accept: '*/*' })
    expect(requests[0]!.headerLists).toEqual({ 'X-Tag': ['a', 'b'] })
    expect(generateTestCase(requests)).toContain('"X-Tag": ["a", "b"],')
  })

  it('seeds __Host- and __Secure- cookies with the attributes their prefix requires, so the jar keeps them (RFC 6265bis)', () => {
    const { requests } = parse(har([{ request: { method: 'GET', url: 'https://a.test/', cookies: [{ name: '__Host-sid', value: 'h1' }, { name: '__Secure-t', value: 's1' }, { name: 'plain', value: 'p1' }] } }]))
    const code = generateTestCase(requests, { serverUrl: 'https://a.test', seedsFromData: true, freshCookies: true })
    expect(code).toContain('this.session.cookies.set(`__Host-sid=${row["__Host-sid"] ?? "h1"}; Secure; Path=/`, this.session.baseUrl ?? "https://a.test/")')
    expect(code).toContain('this.session.cookies.set(`__Secure-t=${row["__Secure-t"] ?? "s1"}; Secure`, this.session.baseUrl ?? "https://a.test/")')
    expect(code).toContain('this.session.cookies.set(`plain=${row["plain"] ?? "p1"}`, this.session.baseUrl ?? "https://a.test/")')
  })
})

describe('HAR: pages and think time (item 6)', () => {
  const paged = (): string =>
    JSON.stringify({
      log: {
        pages: [
          { id: 'p1', title: 'Home', startedDateTime: '2026-01-01T00:00:00.000Z' },
          { id: 'p2', title: 'Cart', startedDateTime: '2026-01-01T00:00:05.000Z' },
        ],
        entries: [
          { pageref: 'p1', startedDateTime: '2026-01-01T00:00:00.000Z', time: 100, request: { method: 'GET', url: 'https://a.test/', headers: [] }, response: { status: 200, headers: [], content: {} } },
          { pageref: 'p1', startedDateTime: '2026-01-01T00:00:00.200Z', time: 300, request: { method: 'GET', url: 'https://a.test/api/a', headers: [] }, response: { status: 200, headers: [], content: {} } },
          { pageref: 'p2', startedDateTime: '2026-01-01T00:00:05.000Z', time: 100, request: { method: 'GET', url: 'https://a.test/cart', headers: [] }, response: { status: 200, headers: [], content: {} } },
        ],
      },
    })

  it('groups requests by recorded page, and with --think recorded pauses before a page as long as the user did', () => {
    const { requests } = parse(paged(), { thinkRecorded: true })
    expect(requests.map((r) => [r.group, r.thinkMs])).toEqual([['Home', undefined], ['Home', undefined], ['Cart', 4500]])
    const code = generateTestCase(requests, { serverUrl: 'https://a.test' })
    expect(code).toMatch(/await this\.group\("Home", async \(\) => \{\n[\s\S]*\n {4}\}\)\n\n {4}await this\.sleep\(4500\) \/\/ the user's pause, as recorded\n {4}await this\.group\("Cart", async \(\) => \{/)
  })

  it('without --think recorded there is no pause, and groupPages: false leaves groups out', () => {
    const { requests } = parse(paged(), { groupPages: false })
    expect(requests.map((r) => [r.group, r.thinkMs])).toEqual([[undefined, undefined], [undefined, undefined], [undefined, undefined]])
    expect(generateTestCase(requests)).not.toContain('sleep(')
  })
})
