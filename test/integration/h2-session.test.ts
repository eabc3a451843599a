import { createSecureServer, type Http2SecureServer, type ServerHttp2Session } from 'node:http2'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Session } from '../../src/http/session.js'
import { RecordingSink } from '../helpers/http-servers.js'
import { makeTestCa, type TestCa } from '../helpers/tls-ca.js'

/** A node:http2 server that counts what it saw as HTTP/2 (sessions, streams) and as HTTP/1.1. */
interface H2Server {
  origin: string
  sessions: number
  streams: number
  h1Requests: number
  close(): Promise<void>
}

async function startH2Server(ca: TestCa): Promise<H2Server> {
  const leaf = ca.issue('localhost', { dnsNames: ['localhost'], ips: ['127.0.0.1'] })
  const state = { sessions: 0, streams: 0, h1Requests: 0 }
  const open = new Set<ServerHttp2Session>()
  const server: Http2SecureServer = createSecureServer({ key: leaf.key, cert: leaf.cert, allowHTTP1: true })
  server.on('session', (session) => {
    state.sessions++
    open.add(session)
    session.on('close', () => open.delete(session))
  })
  server.on('stream', (stream, headers) => {
    state.streams++
    stream.respond({ ':status': 200, 'content-type': 'text/plain', 'x-path': String(headers[':path']) })
    stream.end(`h2 ${headers[':method']} ${headers[':path']}`)
  })
  // HTTP/1.1 requests (allowHTTP1) arrive as 'request' without a 'stream'.
  server.on('request', (req, res) => {
    if (req.httpVersion === '2.0') return
    state.h1Requests++
    res.end(`h1 ${req.method} ${req.url}`)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  return Object.assign(state, {
    origin: `https://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of open) s.destroy()
        server.close(() => resolve())
      }),
  })
}

describe('--http2: a Session speaks h2 to a node:http2 server', () => {
  let ca: TestCa
  let server: H2Server
  beforeAll(async () => {
    ca = makeTestCa()
    server = await startH2Server(ca)
  })
  afterAll(async () => {
    await server.close()
    ca.dispose()
  })

  it('sends 20 requests as 20 h2 streams on one h2 session, each recorded as a hit', async () => {
    const before = { sessions: server.sessions, streams: server.streams, h1: server.h1Requests }
    const sink = new RecordingSink()
    const session = new Session({ sink, http2: true, ca: ca.cert })
    for (let i = 0; i < 20; i++) {
      const res = await session.get(`${server.origin}/item/${i}`, { name: '/item/{i}' })
      expect(res.status).toBe(200)
      expect(res.text).toBe(`h2 GET /item/${i}`)
      expect(res.headers['x-path']).toBe(`/item/${i}`)
    }
    await session.close()
    expect(server.streams - before.streams).toBe(20)
    expect(server.sessions - before.sessions).toBe(1)
    expect(server.h1Requests - before.h1).toBe(0)
    expect(sink.hits).toHaveLength(20)
    expect(sink.hits.every((h) => h.status === 200 && h.errorKind === null && h.name === '/item/{i}')).toBe(true)
    expect(sink.hits.filter((h) => h.connectUs > 0)).toHaveLength(1)
  })

  it('stays on HTTP/1.1 without --http2', async () => {
    const before = { streams: server.streams, h1: server.h1Requests }
    const session = new Session({ sink: new RecordingSink(), ca: ca.cert })
    const res = await session.post(`${server.origin}/form`, { data: { a: '1' } })
    await session.close()
    expect(res.text).toBe('h1 POST /form')
    expect(server.h1Requests - before.h1).toBe(1)
    expect(server.streams - before.streams).toBe(0)
  })
})
