import { describe, expect, it } from 'vitest'
import { LoadsError } from '../../src/http/errors.js'
import { Session } from '../../src/http/session.js'
import { RecordingSink } from '../helpers/http-servers.js'
import { eachRequest, wireFixture } from '../helpers/wire-servers.js'

/**
 * What goes on the wire is what the user wrote, and connections are kept for every method: a
 * raw capture server (plain TCP, or TLS: https:// takes the same client over a TLS socket) keeps the exact bytes of every
 * request head and counts connections.
 */

const wire = wireFixture()

interface Capture {
  origin: string
  /** Every request head, as bytes. */
  heads: Buffer[]
  connections: number
  /** All bytes received, heads and bodies. */
  received: number
}

/**
 * Answers every request with `respond(head)` (default: 200, empty body), reading request bodies
 * by their content-length.
 */
async function capture(secure: boolean, respond?: (head: string) => string): Promise<Capture> {
  const state: Capture = { origin: '', heads: [], connections: 0, received: 0 }
  state.origin = await wire.rawOrigin(secure, (socket) => {
    state.connections++
    socket.on('data', (chunk: Buffer) => (state.received += chunk.length))
    eachRequest(socket, (head) => {
      state.heads.push(head)
      socket.write(respond?.(head.toString('latin1')) ?? 'HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n')
    })
  })
  return state
}

function session(origin: string, options: { headers?: Record<string, string> } = {}) {
  const sink = new RecordingSink()
  const s = new Session({ sink, baseUrl: origin, timeoutMs: 5000, ca: wire.ca().cert, ...options })
  wire.cleanup(() => s.close())
  return { s, sink }
}

const line = (head: Buffer): string => head.toString('latin1').split('\r\n')[0]!

/** The bytes of header `name`'s value in a captured head (undefined when absent). */
function valueBytes(head: Buffer, name: string): Buffer | undefined {
  const text = head.toString('latin1')
  const match = new RegExp(`\r\n${name}: ([^\r]*)\r\n`, 'i').exec(text)
  return match === null ? undefined : Buffer.from(match[1]!, 'latin1')
}

describe.each([
  ['http:// (Loads’ HTTP/1.1 client)', false],
  ['https:// (the same client over TLS)', true],
])('on the wire, %s', (_label, secure) => {
  it('sends a method exactly as written, and the common verbs upper-cased in any case', async () => {
    const srv = await capture(secure)
    const { s, sink } = session(srv.origin)
    await s.request('wHat', '/a')
    await s.request('PURGE', '/b')
    await s.request('get', '/c')
    await s.request('Delete', '/d')
    expect(srv.heads.map(line)).toEqual(['wHat /a HTTP/1.1', 'PURGE /b HTTP/1.1', 'GET /c HTTP/1.1', 'DELETE /d HTTP/1.1'])
    expect(sink.hits.map((h) => h.method)).toEqual(['wHat', 'PURGE', 'GET', 'DELETE'])
  })

  it('refuses a method that is not a token before sending anything', async () => {
    const srv = await capture(secure)
    const { s, sink } = session(srv.origin)
    for (const method of ['GE T', 'GET\r\nX: 1', '', 'Ü']) {
      const err = await s.request(method, '/').catch((e: unknown) => e)
      expect(err).toBeInstanceOf(LoadsError)
      expect((err as LoadsError).code).toBe('LOADS_ERR_INVALID_REQUEST')
    }
    expect([srv.received, sink.hits.length]).toEqual([0, 0])
  })

  it("sends no field for a null header: a session default dropped, and no content-length: 0 on a bodiless POST (curl's way)", async () => {
    const srv = await capture(secure)
    const { s } = session(srv.origin)
    await s.post('/plain')
    await s.post('/curl', { headers: { Accept: null, 'Content-Length': null } })
    // With a body the length frames it: null cannot remove it.
    await s.put('/body', { headers: { 'content-length': null }, body: 'abc' })
    const [plain, curl, body] = srv.heads.map((head) => head.toString('latin1').toLowerCase())
    expect([plain?.includes('content-length: 0\r\n'), plain?.includes('accept: */*\r\n')]).toEqual([true, true])
    expect([curl?.includes('content-length'), curl?.includes('accept:'), curl?.includes('user-agent: loads-runner/')]).toEqual([false, false, true])
    expect(body).toContain('content-length: 3\r\n')
  })

  it('resolves . and .. in paths, and with pathAsIs sends the path as written (curl --path-as-is)', async () => {
    const srv = await capture(secure)
    const { s } = session(srv.origin)
    await s.get('/a/../b/./c')
    await s.get('/a/../b/./c?q=1#frag', { pathAsIs: true })
    await s.get(`${srv.origin}/x/%2e%2e/../y`, { pathAsIs: true, params: { p: 2 } })
    expect(srv.heads.map(line)).toEqual(['GET /b/c HTTP/1.1', 'GET /a/../b/./c?q=1 HTTP/1.1', 'GET /x/%2e%2e/../y?p=2 HTTP/1.1'])
  })

  it('sends header values as their UTF-8 bytes, as curl does', async () => {
    const srv = await capture(secure)
    const { s } = session(srv.origin, { headers: { 'x-session': 'Zoë' } })
    await s.get('/', { headers: { 'x-name': 'José', 'x-city': '日本', 'x-ascii': 'plain' } })
    const head = srv.heads[0]!
    expect(valueBytes(head, 'x-name')).toEqual(Buffer.from('José', 'utf8'))
    expect(valueBytes(head, 'x-city')).toEqual(Buffer.from('日本', 'utf8'))
    expect(valueBytes(head, 'x-session')).toEqual(Buffer.from('Zoë', 'utf8'))
    expect(valueBytes(head, 'x-ascii')?.toString()).toBe('plain')
  })

  it('refuses CR, LF and NUL in a header value with a clear error, before anything is sent', async () => {
    const srv = await capture(secure)
    const { s, sink } = session(srv.origin)
    for (const bad of ['a\r\nInjected: 1', 'a\rb', 'a\nb', 'a\0b']) {
      const err = await s.get('/', { headers: { 'x-bad': bad } }).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(LoadsError)
      expect((err as LoadsError).code).toBe('LOADS_ERR_INVALID_REQUEST')
      expect((err as Error).message).toContain("the value of header 'x-bad' contains CR, LF or NUL")
    }
    expect([srv.received, sink.hits.length]).toEqual([0, 0])
  })
})

describe.each([
  ['http://', false],
  ['https://', true],
])('keep-alive for every method (%s)', (_label, secure) => {
  // undici closes the connection after a HEAD, to interoperate with servers that send a body to
  // HEAD; Loads' client keeps it, and drops it only if such bytes do come (stray bytes).
  it('keeps one connection for 20 runs of HEAD, OPTIONS, and GET and DELETE with a body', async () => {
    const srv = await capture(secure)
    const { s, sink } = session(srv.origin)
    for (let run = 0; run < 20; run++) {
      await s.head('/')
      await s.options('/')
      await s.get('/', { body: 'query' })
      await s.delete('/', { json: { id: run } })
    }
    expect(srv.heads).toHaveLength(80)
    expect(sink.hits).toHaveLength(80)
    expect(srv.connections).toBe(1)
    expect(srv.heads.every((h) => !/connection: close/i.test(h.toString('latin1')))).toBe(true)
  })
})

describe('credentials on a redirect', () => {
  it('drops Cookie, Authorization and Proxy-Authorization on a redirect to another origin, and keeps them on the same origin', async () => {
    const other = await capture(false)
    const first = await capture(false, (head) => {
      if (head.startsWith('GET /away ')) return `HTTP/1.1 302 Found\r\nlocation: ${other.origin}/landed\r\ncontent-length: 0\r\n\r\n`
      if (head.startsWith('GET /here ')) return 'HTTP/1.1 302 Found\r\nlocation: /landed\r\ncontent-length: 0\r\n\r\n'
      return 'HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n'
    })
    const { s } = session(first.origin, { headers: { cookie: 'session=secret', 'proxy-authorization': 'Basic cHJveHk6cA==' } })
    const given = { headers: { authorization: 'Bearer token', cookie: 'per=request' } }
    await s.get('/away', given)
    await s.get('/here', given)
    await s.get('/away', { auth: ['u', 'p'] })
    const credentials = (head: Buffer): string[] =>
      ['cookie', 'authorization', 'proxy-authorization'].filter((name) => valueBytes(head, name) !== undefined)
    // The other origin heard none of them; the same origin heard them on both hops.
    expect(other.heads.map(credentials)).toEqual([[], []])
    expect(first.heads.map((h) => [line(h), credentials(h)])).toEqual([
      ['GET /away HTTP/1.1', ['cookie', 'authorization', 'proxy-authorization']],
      ['GET /here HTTP/1.1', ['cookie', 'authorization', 'proxy-authorization']],
      ['GET /landed HTTP/1.1', ['cookie', 'authorization', 'proxy-authorization']],
      ['GET /away HTTP/1.1', ['cookie', 'authorization', 'proxy-authorization']],
    ])
    expect(valueBytes(first.heads[0]!, 'cookie')?.toString()).toBe('per=request')
  })
})
