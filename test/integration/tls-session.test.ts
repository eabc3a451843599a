import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer, type ServerOptions } from 'node:https'
import type { AddressInfo } from 'node:net'
import type { TLSSocket } from 'node:tls'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { resetOnRetry } from '../helpers/retry-reset.js'
import { ConnectionShare } from '../../src/http/connection-share.js'
import { NetworkError } from '../../src/http/errors.js'
import { parseResolve, pinnedLookup } from '../../src/http/resolve-map.js'
import { Session } from '../../src/http/session.js'
import { RecordingSink } from '../helpers/http-servers.js'
import { makeTestCa, type TestCa } from '../helpers/tls-ca.js'

/** What the server saw of one request: Host, SNI and the client certificate's CN. */
interface Seen {
  host: string | undefined
  servername: string | false | undefined
  clientCn: string | undefined
}

async function listen(options: ServerOptions | undefined): Promise<{ port: number; seen: Seen[]; close(): Promise<void> }> {
  const seen: Seen[] = []
  // A retried test sees only its own attempt's requests (test/helpers/retry-reset.ts).
  resetOnRetry(() => {
    seen.length = 0
  })
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const socket = req.socket as TLSSocket
    const peer = typeof socket.getPeerCertificate === 'function' ? socket.getPeerCertificate() : undefined
    seen.push({ host: req.headers.host, servername: socket.servername, clientCn: peer?.subject?.CN })
    res.end('ok')
  }
  const server = options === undefined ? createHttpServer(handler) : createHttpsServer(options, handler)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as AddressInfo).port,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

describe('TLS options: a private CA, client certificates, --insecure and --resolve', () => {
  let ca: TestCa
  let https: Awaited<ReturnType<typeof listen>>
  let mtls: Awaited<ReturnType<typeof listen>>
  let client: { cert: string; key: string }
  beforeAll(async () => {
    ca = makeTestCa()
    const leaf = ca.issue('loads.test', { dnsNames: ['loads.test'], ips: ['127.0.0.1'] })
    client = ca.issue('virtual-user-1', { client: true })
    https = await listen({ key: leaf.key, cert: leaf.cert })
    mtls = await listen({ key: leaf.key, cert: leaf.cert, ca: ca.cert, requestCert: true, rejectUnauthorized: true })
  })
  afterAll(async () => {
    await https.close()
    await mtls.close()
    ca.dispose()
  })

  it('refuses a certificate from an unknown CA as a TLS error hit, and trusts it with the CA', async () => {
    const sink = new RecordingSink()
    const untrusting = new Session({ sink })
    const err = await untrusting.get(`https://127.0.0.1:${https.port}/`).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(NetworkError)
    expect((err as NetworkError).kind).toBe('TLS')
    expect(sink.hits.map((h) => h.errorKind)).toEqual(['TLS'])

    const trusting = new Session({ sink, ca: ca.cert })
    expect((await trusting.get(`https://127.0.0.1:${https.port}/`)).status).toBe(200)
    const insecure = new Session({ sink, insecure: true })
    expect((await insecure.get(`https://127.0.0.1:${https.port}/`)).status).toBe(200)
    await Promise.all([untrusting.close(), trusting.close(), insecure.close()])
    expect(https.seen).toHaveLength(2)
  })

  it('presents a client certificate (--cert/--key) to a server that requires one', async () => {
    const sink = new RecordingSink()
    const without = new Session({ sink, ca: ca.cert })
    await expect(without.get(`https://127.0.0.1:${mtls.port}/`)).rejects.toBeInstanceOf(NetworkError)
    const withCert = new Session({ sink, ca: ca.cert, cert: client.cert, key: client.key })
    expect((await withCert.get(`https://127.0.0.1:${mtls.port}/`)).status).toBe(200)
    await Promise.all([without.close(), withCert.close()])
    expect(mtls.seen.map((s) => s.clientCn)).toEqual(['virtual-user-1'])
  })

  it('--resolve pins a host name to 127.0.0.1 and keeps Host and SNI as the URL says', async () => {
    const resolve = parseResolve([`loads.test:${https.port}:127.0.0.1`])
    const session = new Session({ sink: new RecordingSink(), ca: ca.cert, resolve })
    const before = https.seen.length
    expect((await session.get(`https://loads.test:${https.port}/pinned`)).status).toBe(200)
    await session.close()
    expect(https.seen.slice(before)).toEqual([{ host: `loads.test:${https.port}`, servername: 'loads.test', clientCn: undefined }])
  })

  it('--resolve applies to plain http too, and only to the pinned port', async () => {
    const plain = await listen(undefined)
    try {
      const resolve = parseResolve([`loads.test:${plain.port}:127.0.0.1`])
      const session = new Session({ sink: new RecordingSink(), resolve })
      expect((await session.get(`http://LOADS.test:${plain.port}/`)).status).toBe(200)
      expect(plain.seen[0]?.host).toBe(`loads.test:${plain.port}`)
      await session.close()
      // Another port of the same name is not pinned (it would go to DNS, which is not asked here).
      expect(pinnedLookup(resolve, 'loads.test', plain.port + 1)).toBeUndefined()
      expect(pinnedLookup(resolve, 'LOADS.TEST', plain.port)).toBeTypeOf('function')
    } finally {
      await plain.close()
    }
  })

  it('rejects --resolve entries that are not host:port:ip', () => {
    expect(() => parseResolve(['loads.test:80'])).toThrow(/host:port:address/)
    expect(() => parseResolve(['loads.test:80:not-an-ip'])).toThrow(/host:port:address/)
    expect(parseResolve(['h:443:[::1]'])).toEqual({ 'h:443': '::1' })
  })
})

describe('TLS session resumption on reconnects', () => {
  let ca: TestCa
  beforeAll(() => {
    ca = makeTestCa()
  })
  afterAll(() => ca.dispose())

  /** An HTTPS server that closes every connection after its response and counts full and resumed handshakes. */
  async function closingServer(maxVersion: 'TLSv1.2' | 'TLSv1.3'): Promise<{ port: number; requests: number; full: number; resumed: number; close(): Promise<void> }> {
    const leaf = ca.issue('127.0.0.1', { ips: ['127.0.0.1'] })
    const counts = { requests: 0, full: 0, resumed: 0 }
    const server = createHttpsServer({ key: leaf.key, cert: leaf.cert, maxVersion }, (_req, res) => {
      counts.requests++
      res.setHeader('connection', 'close')
      res.end('ok')
    })
    server.on('secureConnection', (socket: TLSSocket) => {
      if (socket.isSessionReused()) counts.resumed++
      else counts.full++
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    return Object.assign(counts, {
      port: (server.address() as AddressInfo).port,
      close: () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections()
          server.close(() => resolve())
        }),
    })
  }

  for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
    it(`${version}: each reconnect resumes the session, and a second user of the worker resumes on its first connect`, async () => {
      const server = await closingServer(version)
      try {
        const sink = new RecordingSink()
        const share = new ConnectionShare()
        const first = new Session({ sink, ca: ca.cert, share })
        for (let i = 0; i < 4; i++) expect((await first.get(`https://127.0.0.1:${server.port}/`)).status).toBe(200)
        const second = new Session({ sink, ca: ca.cert, share })
        expect((await second.get(`https://127.0.0.1:${server.port}/`)).status).toBe(200)
        await Promise.all([first.close(), second.close()])
        expect(sink.hits).toHaveLength(5)
        expect(server.requests).toBe(5)
        // One full handshake; the four connections after it resume the session it gave.
        expect({ full: server.full, resumed: server.resumed }).toEqual({ full: 1, resumed: 4 })
        // Every hit opened a connection of its own, and says how long that took.
        expect(sink.hits.filter((h) => h.connectUs > 0)).toHaveLength(5)
      } finally {
        await server.close()
      }
    })
  }
})
