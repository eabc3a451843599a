import type { Socket } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { LoadsError, NetworkError } from '../../src/http/errors.js'
import { Session } from '../../src/http/session.js'
import { RecordingSink, startRawServer } from '../helpers/http-servers.js'
import { eachRequest, wireFixture } from '../helpers/wire-servers.js'

/**
 * The http:// transport byte by byte: a raw TCP server writes exactly the responses under test
 * (split anywhere, chunked, close-delimited, informational) and records exactly what arrived.
 */

const cleanups: Array<() => Promise<void>> = []
/** https:// origins: the same raw server behind TLS (a test CA's certificate). */
const wire = wireFixture()
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

interface Scripted {
  origin: string
  /** Every request head received, in order. */
  heads: string[]
  connections: number
}

/**
 * A server that answers request number n (counted over all connections) with `answer(n, socket)`;
 * the answer writes raw bytes and may close the socket.
 */
async function scripted(answer: (n: number, socket: Socket) => void | Promise<void>, secure = false): Promise<Scripted> {
  const state: Scripted = { origin: '', heads: [], connections: 0 }
  const onSocket = (socket: Socket): void => {
    state.connections++
    eachRequest(socket, (head) => {
      state.heads.push(head.toString('latin1'))
      void answer(state.heads.length - 1, socket)
    })
  }
  if (secure) {
    state.origin = await wire.rawOrigin(true, onSocket)
  } else {
    const raw = await startRawServer(onSocket)
    cleanups.push(() => raw.close())
    state.origin = `http://127.0.0.1:${raw.port}`
  }
  return state
}

function session(origin: string) {
  const sink = new RecordingSink()
  // https:// trusts the test CA, and allows for a TLS handshake on a loaded machine.
  const s = origin.startsWith('https:') ? new Session({ sink, baseUrl: origin, timeoutMs: 10_000, ca: wire.ca().cert }) : new Session({ sink, baseUrl: origin, timeoutMs: 2000 })
  cleanups.push(() => s.close())
  return { s, sink }
}

/** Writes `bytes` a few at a time, each piece in its own TCP segment. */
async function dribble(socket: Socket, bytes: string, step: number): Promise<void> {
  for (let i = 0; i < bytes.length; i += step) {
    socket.write(bytes.slice(i, i + step), 'latin1')
    await new Promise((resolve) => setTimeout(resolve, 1))
  }
}

const OK = 'HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello'

describe('H1Connection (http:// transport)', () => {
  it('sends the same head undici would, and reuses one connection for repeated requests', async () => {
    const srv = await scripted((_n, socket) => socket.write(OK))
    const { s, sink } = session(srv.origin)
    for (let i = 0; i < 3; i++) expect((await s.get('/items?page=2')).text).toBe('hello')
    const port = new URL(srv.origin).port
    expect(srv.heads[0]).toBe(`GET /items?page=2 HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\nconnection: keep-alive\r\nuser-agent: loads-runner/0.1\r\naccept: */*\r\n\r\n`)
    expect(new Set(srv.heads).size).toBe(1)
    expect(srv.connections).toBe(1)
    expect(sink.hits.map((h) => h.status)).toEqual([200, 200, 200])
  })

  it('adds content-length to a body, and content-length: 0 to a bodiless POST', async () => {
    const srv = await scripted((_n, socket) => socket.write(OK))
    const { s } = session(srv.origin)
    await s.post('/a', { json: { x: 1 } })
    await s.post('/b')
    expect(srv.heads[0]).toMatch(/content-type: application\/json\r\ncontent-length: 7\r\n\r\n$/)
    expect(srv.heads[1]).toMatch(/connection: keep-alive\r\n(.*\r\n)*content-length: 0\r\n\r\n$/)
  })

  it('skips 100 Continue and 103 Early Hints before the response', async () => {
    const srv = await scripted((_n, socket) => socket.write(`HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nlink: </a.css>\r\n\r\n${OK}`))
    const { s, sink } = session(srv.origin)
    expect((await s.get('/')).text).toBe('hello')
    expect(sink.hits).toHaveLength(1)
  })

  it('expects no body after HEAD, 204 and 304, whatever content-length says', async () => {
    const srv = await scripted((n, socket) => {
      if (n === 0) socket.write('HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n')
      else if (n === 1) socket.write('HTTP/1.1 204 No Content\r\n\r\n')
      else if (n === 2) socket.write('HTTP/1.1 304 Not Modified\r\ncontent-length: 50\r\n\r\n')
      else socket.write(OK)
    })
    const { s } = session(srv.origin)
    const head = await s.head('/')
    expect([head.status, head.content.length]).toEqual([200, 0])
    expect((await s.get('/')).status).toBe(204)
    expect((await s.get('/')).status).toBe(304)
    expect((await s.get('/')).text).toBe('hello')
  })

  it('reconnects after a response with connection: close, and after the server drops an idle connection', async () => {
    const srv = await scripted((n, socket) => {
      if (n === 0) socket.end('HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 2\r\n\r\nc1')
      else if (n === 1) {
        socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nc2')
        setTimeout(() => socket.end(), 10)
      } else socket.write(OK)
    })
    const { s, sink } = session(srv.origin)
    expect((await s.get('/')).text).toBe('c1')
    expect((await s.get('/')).text).toBe('c2')
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect((await s.get('/')).text).toBe('hello')
    expect(srv.connections).toBe(3)
    expect(sink.hits.map((h) => h.errorKind)).toEqual([null, null, null])
  })

  it('fails a response cut short as ECONNRESET, and garbage as PROTOCOL', async () => {
    const srv = await scripted((n, socket) => {
      if (n === 0) socket.end('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nshort')
      else socket.write('SSH-2.0-OpenSSH\r\n\r\n')
    })
    const { s, sink } = session(srv.origin)
    const cut = await s.get('/').catch((e: unknown) => e)
    const garbage = await s.get('/').catch((e: unknown) => e)
    expect([(cut as NetworkError).kind, (garbage as NetworkError).kind]).toEqual(['ECONNRESET', 'PROTOCOL'])
    expect(sink.hits.map((h) => [h.status, h.errorKind, h.bytesIn])).toEqual([[0, 'ECONNRESET', 5], [0, 'PROTOCOL', 0]])
  })

  it('refuses a header value with a line break before sending anything', async () => {
    const srv = await scripted((_n, socket) => socket.write(OK))
    const { s, sink } = session(srv.origin)
    const err = await s.get('/', { headers: { 'x-bad': 'a\r\nInjected: 1' } }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(LoadsError)
    expect((err as LoadsError).code).toBe('LOADS_ERR_INVALID_REQUEST')
    expect(srv.heads).toHaveLength(0)
    expect(sink.hits).toHaveLength(0)
  })

  it('sees a change of default headers on the next request', async () => {
    const srv = await scripted((_n, socket) => socket.write(OK))
    const { s } = session(srv.origin)
    await s.get('/')
    s.headers['x-token'] = 'abc'
    await s.get('/')
    delete s.headers['x-token']
    await s.get('/')
    expect(srv.heads.map((h) => h.includes('x-token: abc'))).toEqual([false, true, false])
  })
})

/**
 * Reads as the bytes come, over plain TCP and over TLS alike: both sockets hand their bytes to
 * one `onread` callback (over TLS, each dribbled piece is a TLS record of its own).
 */
describe.each([
  ['http://', false],
  ['https://', true],
])('H1Connection reads over %s', (_label, secure) => {
    it('reads a head and body that arrive a few bytes at a time', async () => {
      const body = 'x'.repeat(300)
      const srv = await scripted((_n, socket) => dribble(socket, `HTTP/1.1 201 Created\r\nX-One: 1\r\nx-two:  spaced  \r\nContent-Length: ${body.length}\r\n\r\n${body}`, 7), secure)
      const { s, sink } = session(srv.origin)
      const res = await s.get('/')
      expect([res.status, res.reason, res.text]).toEqual([201, 'Created', body])
      expect(res.headers).toMatchObject({ 'x-one': '1', 'x-two': 'spaced', 'content-length': '300' })
      expect(sink.hits[0]!.bytesIn).toBe(300)
    })

    it('decodes chunked bodies with extensions and trailers, split at every awkward place', async () => {
      const chunked = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n1A\r\n' + 'abcdefghijklmnopqrstuvwxyz' + '\r\n0\r\nx-trailer: t\r\n\r\n'
      const srv = await scripted((n, socket) => (n === 0 ? dribble(socket, chunked, 3) : socket.write(chunked)), secure)
      const { s } = session(srv.origin)
      expect((await s.get('/')).text).toBe('helloabcdefghijklmnopqrstuvwxyz')
      expect((await s.get('/')).text).toBe('helloabcdefghijklmnopqrstuvwxyz')
      expect(srv.connections).toBe(1)
    })

    it('reads a body without length until the server closes, then reconnects', async () => {
      const srv = await scripted((_n, socket) => {
        socket.write('HTTP/1.0 200 OK\r\ncontent-type: text/plain\r\n\r\nuntil ')
        setTimeout(() => socket.end('close'), 20)
      }, secure)
      const { s, sink } = session(srv.origin)
      expect((await s.get('/')).text).toBe('until close')
      expect((await s.get('/')).text).toBe('until close')
      expect(srv.connections).toBe(2)
      expect(sink.hits.every((h) => h.connectUs > 0)).toBe(true)
    })
})
