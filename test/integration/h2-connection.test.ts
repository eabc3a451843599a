import { createServer as createH2cServer, createSecureServer, type Http2Server, type Http2SecureServer, type ServerHttp2Session } from 'node:http2'
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import type { TLSSocket } from 'node:tls'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ConnectionShare } from '../../src/http/connection-share.js'
import { NetworkError } from '../../src/http/errors.js'
import { Session } from '../../src/http/session.js'
import { RecordingSink } from '../helpers/http-servers.js'
import { makeTestCa, type TestCa } from '../helpers/tls-ca.js'

/** What an h2 server saw: connections (and how many resumed a TLS session), streams, by path. */
interface Counts {
  sessions: number
  resumed: number
  streams: number
  paths: Map<string, number>
}

function countingH2<S extends Http2Server | Http2SecureServer>(server: S): { server: S; counts: Counts; open: Set<ServerHttp2Session> } {
  const counts: Counts = { sessions: 0, resumed: 0, streams: 0, paths: new Map() }
  const open = new Set<ServerHttp2Session>()
  server.on('session', (session: ServerHttp2Session) => {
    counts.sessions++
    if ((session.socket as TLSSocket).isSessionReused?.() === true) counts.resumed++
    open.add(session)
    session.on('close', () => open.delete(session))
  })
  server.on('stream', (stream, headers) => {
    const path = String(headers[':path'])
    counts.paths.set(path, (counts.paths.get(path) ?? 0) + 1)
    if (path === '/silent') return // never answers: the client's timeout must fire
    counts.streams++
    const chunks: Buffer[] = []
    stream.on('data', (c: Buffer) => chunks.push(c))
    stream.on('end', () => {
      stream.respond({ ':status': path === '/missing' ? 404 : 200, 'set-cookie': 'sid=abc; Path=/', 'x-got': String(Buffer.concat(chunks).length) })
      stream.end(`h2 ${headers[':method']} ${path} ${headers['cookie'] ?? ''}`)
    })
  })
  return { server, counts, open }
}

async function listen(server: Http2Server | Http2SecureServer | HttpsServer): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return (server.address() as AddressInfo).port
}

describe('HTTP/2 on node:http2: h2c, shared connections, TLS resumption, fallback', () => {
  let ca: TestCa
  let tlsServer: ReturnType<typeof countingH2<Http2SecureServer>>
  let h2cServer: ReturnType<typeof countingH2<Http2Server>>
  let h1Only: HttpsServer
  let h1Requests = 0
  let h1Handshakes = 0
  let h1Resumed = 0
  let tlsOrigin = ''
  let h2cOrigin = ''
  let h1Origin = ''
  beforeAll(async () => {
    ca = makeTestCa()
    const leaf = ca.issue('localhost', { dnsNames: ['localhost'], ips: ['127.0.0.1'] })
    tlsServer = countingH2(createSecureServer({ key: leaf.key, cert: leaf.cert }))
    h2cServer = countingH2(createH2cServer())
    h1Only = createHttpsServer({ key: leaf.key, cert: leaf.cert }, (req, res) => {
      h1Requests++
      if (req.url?.startsWith('/close') === true) res.setHeader('connection', 'close')
      res.end(`h1 ${req.method} ${req.url}`)
    })
    h1Only.on('secureConnection', (socket: TLSSocket) => {
      h1Handshakes++
      if (socket.isSessionReused()) h1Resumed++
    })
    tlsOrigin = `https://localhost:${await listen(tlsServer.server)}`
    h2cOrigin = `http://127.0.0.1:${await listen(h2cServer.server)}`
    h1Origin = `https://localhost:${await listen(h1Only)}`
  })
  afterAll(async () => {
    for (const s of [tlsServer, h2cServer]) {
      for (const session of s.open) session.destroy()
      await new Promise<void>((resolve) => s.server.close(() => resolve()))
    }
    h1Only.closeAllConnections()
    await new Promise<void>((resolve) => h1Only.close(() => resolve()))
    ca.dispose()
  })

  it('--h2c: speaks HTTP/2 by prior knowledge to an http:// server; POST bodies, cookies and 404s as over h1', async () => {
    const before = { sessions: h2cServer.counts.sessions, streams: h2cServer.counts.streams }
    const sink = new RecordingSink()
    const session = new Session({ sink, h2c: true })
    const first = await session.post(`${h2cOrigin}/form`, { data: { a: '1' } })
    expect(first.status).toBe(200)
    expect(first.headers['x-got']).toBe('3')
    const second = await session.get(`${h2cOrigin}/again`)
    expect(second.text).toBe('h2 GET /again sid=abc')
    const missing = await session.get(`${h2cOrigin}/missing`)
    expect(missing.status).toBe(404)
    await session.close()
    expect(h2cServer.counts.streams - before.streams).toBe(3)
    expect(h2cServer.counts.sessions - before.sessions).toBe(1)
    expect(sink.hits.map((h) => [h.method, h.status, h.errorKind])).toEqual([['POST', 200, null], ['GET', 200, null], ['GET', 404, null]])
    expect(sink.hits.filter((h) => h.connectUs > 0)).toHaveLength(1)
    expect(sink.hits[0]!.bytesOut).toBe(3)
  })

  it('--h2-streams 4: 10 users of a worker ride 3 connections, each request one stream and one hit', async () => {
    const before = { sessions: tlsServer.counts.sessions, streams: tlsServer.counts.streams }
    const share = new ConnectionShare(4)
    const sink = new RecordingSink()
    const users = Array.from({ length: 10 }, () => new Session({ sink, http2: true, ca: ca.cert, share }))
    await Promise.all(users.map(async (user, i) => {
      for (let j = 0; j < 5; j++) expect((await user.get(`${tlsOrigin}/u/${i}`)).status).toBe(200)
    }))
    await Promise.all(users.map((user) => user.close()))
    expect(tlsServer.counts.sessions - before.sessions).toBe(3)
    expect(tlsServer.counts.streams - before.streams).toBe(50)
    expect(sink.hits).toHaveLength(50)
    expect(sink.hits.every((h) => h.status === 200 && h.errorKind === null)).toBe(true)
  })

  it('resumes TLS sessions: a worker\'s second user, and a user reconnecting, skip the full handshake', async () => {
    const share = new ConnectionShare()
    const before = { sessions: tlsServer.counts.sessions, resumed: tlsServer.counts.resumed }
    const a = new Session({ sink: new RecordingSink(), http2: true, ca: ca.cert, share })
    await a.get(`${tlsOrigin}/a`)
    await a.close()
    const b = new Session({ sink: new RecordingSink(), http2: true, ca: ca.cert, share })
    await b.get(`${tlsOrigin}/b`)
    await b.close()
    await b.get(`${tlsOrigin}/b-again`)
    await b.close()
    expect(tlsServer.counts.sessions - before.sessions).toBe(3)
    expect(tlsServer.counts.resumed - before.resumed).toBe(2)
  })

  it('keeps HTTP/1.1 when the server declines h2 by ALPN, on the socket already open', async () => {
    const before = h1Requests
    const sink = new RecordingSink()
    const session = new Session({ sink, http2: true, ca: ca.cert })
    for (let i = 0; i < 3; i++) expect((await session.get(`${h1Origin}/h1/${i}`)).text).toBe(`h1 GET /h1/${i}`)
    await session.close()
    expect(h1Requests - before).toBe(3)
    expect(sink.hits.map((h) => h.status)).toEqual([200, 200, 200])
    expect(sink.hits.filter((h) => h.connectUs > 0)).toHaveLength(1)
  })

  it('HTTPS/1.1: a user whose connection the server closes after each response resumes its TLS session on every reconnect', async () => {
    const before = { requests: h1Requests, handshakes: h1Handshakes, resumed: h1Resumed }
    const sink = new RecordingSink()
    const session = new Session({ sink, ca: ca.cert })
    for (let i = 0; i < 4; i++) expect((await session.get(`${h1Origin}/close/${i}`)).text).toBe(`h1 GET /close/${i}`)
    await session.close()
    expect(h1Requests - before.requests).toBe(4)
    expect(h1Handshakes - before.handshakes).toBe(4)
    expect(h1Resumed - before.resumed).toBe(3)
    expect(sink.hits.map((h) => h.status)).toEqual([200, 200, 200, 200])
    expect(sink.hits.every((h) => h.connectUs > 0)).toBe(true)
  })

  it('a stream the server never answers fails as TIMEOUT; the connection carries the next request', async () => {
    const sink = new RecordingSink()
    const session = new Session({ sink, h2c: true, timeoutMs: 300 })
    const err = await session.get(`${h2cOrigin}/silent`).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(NetworkError)
    expect((err as NetworkError).kind).toBe('TIMEOUT')
    expect((await session.get(`${h2cOrigin}/after`)).status).toBe(200)
    await session.close()
    expect(sink.hits.map((h) => h.errorKind)).toEqual(['TIMEOUT', null])
  })

  it('a refused connection is one hit of kind ECONNREFUSED per request', async () => {
    const probe = createH2cServer()
    const port = await listen(probe)
    await new Promise<void>((resolve) => probe.close(() => resolve()))
    const sink = new RecordingSink()
    const session = new Session({ sink, h2c: true })
    for (let i = 0; i < 2; i++) {
      const err = await session.get(`http://127.0.0.1:${port}/`).catch((e: unknown) => e)
      expect((err as NetworkError).kind).toBe('ECONNREFUSED')
    }
    await session.close()
    expect(sink.hits.map((h) => h.errorKind)).toEqual(['ECONNREFUSED', 'ECONNREFUSED'])
    expect(sink.hits.every((h) => h.connectUs > 0)).toBe(true)
  })
})
