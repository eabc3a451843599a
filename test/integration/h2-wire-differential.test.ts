import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ConnectionShare } from '../../src/http/connection-share.js'
import { NetworkError } from '../../src/http/errors.js'
import { Session } from '../../src/http/session.js'
import { patterned, sha256, startScenarioServer, type ScenarioServer } from '../helpers/h2-scenarios.js'
import { RecordingSink } from '../helpers/http-servers.js'
// @ts-expect-error: the benchmark's nginx helper is plain JavaScript (bench/lib).
import { startNginx } from '../../bench/lib/nginx.mjs'

/**
 * Loads' own HTTP/2 client (src/http/h2-wire.ts) against node:http2 (LOADS_HTTP2=node), the
 * field library it replaces: the same requests, through a Session, to the same h2c server, must
 * give the same statuses, bodies, headers, hits and error kinds, and make the server count the
 * same streams and connections. The cases cover cookies, redirects, a 30 kB request header
 * (CONTINUATION from the client), request bodies beyond the
 * server's 64 KiB window, a 5 MB response beyond our stream window (flow control both ways),
 * CONTINUATION, RST_STREAM before and after the headers, REFUSED_STREAM, GOAWAY then reconnect,
 * trailers, 103 Early Hints, HEAD and 204, 404, and a silent stream (timeout).
 *
 * Deliberate differences (asserted below):
 * - node:http2 refuses a response with more than 128 header fields (ENHANCE_YOUR_CALM, its
 *   maxHeaderListPairs); Loads bounds the header list by size only (64 KiB, RFC 9113 §6.5.2's
 *   measure, node's default too), so a 500-field response is read (501 fields with date).
 * - a connection lost mid-body (no END_STREAM) fails the request as ECONNRESET, as a cut body
 *   does over HTTP/1.1; node:http2 ends the stream as if complete and reports the partial body
 *   as a 200.
 */
type Case = readonly [method: string, path: string, body?: Buffer, headers?: Record<string, string>]
const CASES: Case[] = [
  ['GET', '/hello'],
  ['GET', '/hello'],
  // A 30 kB request header: HEADERS and a CONTINUATION frame from the client.
  ['GET', '/hello', undefined, { 'x-client': 'c'.repeat(30_000) }],
  ['POST', '/echo', patterned(200_000)],
  ['GET', '/big?n=5000000'],
  ['GET', '/204'],
  ['HEAD', '/head'],
  ['GET', '/header?n=20000'],
  ['GET', '/rst'],
  ['GET', '/rst-mid'],
  ['GET', '/refuse'],
  ['GET', '/goaway'],
  ['GET', '/hello'],
  ['GET', '/trailers'],
  ['GET', '/early'],
  ['GET', '/redirect'],
  ['GET', '/silent'],
  ['GET', '/hello'],
  ['GET', '/nowhere'],
]

async function run(server: ScenarioServer, backend: 'node' | 'own'): Promise<{ results: unknown[]; hits: unknown[]; sessions: number; streams: Map<string, number> }> {
  const before = { sessions: server.sessions, streams: new Map(server.streams) }
  const previous = process.env['LOADS_HTTP2']
  process.env['LOADS_HTTP2'] = backend
  const sink = new RecordingSink()
  // Generous for every case (a loaded CI machine); /silent alone waits for its 1 s timeout.
  const session = new Session({ sink, h2c: true, timeoutMs: 60_000 })
  const results: unknown[] = []
  try {
    for (const [method, path, body, headers] of CASES) {
      try {
        const res = await session.request(method, `${server.origin}${path}`, { ...(body === undefined ? {} : { data: body }), ...(headers === undefined ? {} : { headers }), ...(path === '/silent' ? { timeout: 1000 } : {}) })
        results.push([method, path, res.status, res.content.length, sha256(res.content), res.headers['set-cookie'] ?? null, res.headers['x-len'] ?? null, (res.headers['x-big'] ?? '').length, Object.keys(res.headers).sort()])
      } catch (err) {
        expect(err).toBeInstanceOf(NetworkError)
        // The message names the port and error; both clients word node's HTTP/2 errors alike.
        results.push([method, path, (err as NetworkError).kind, (err as NetworkError).message.replace(/ \(GET .*$/, '')])
      }
    }
  } finally {
    await session.close()
    if (previous === undefined) delete process.env['LOADS_HTTP2']
    else process.env['LOADS_HTTP2'] = previous
  }
  const streams = new Map<string, number>()
  for (const [path, n] of server.streams) if (n !== (before.streams.get(path) ?? 0)) streams.set(path, n - (before.streams.get(path) ?? 0))
  return { results, hits: sink.hits.map((h) => [h.method, h.status, h.errorKind, h.bytesIn, h.bytesOut]), sessions: server.sessions - before.sessions, streams }
}

describe('own HTTP/2 client vs node:http2: same requests, same server, same outcome', () => {
  let server: ScenarioServer
  beforeAll(async () => {
    server = await startScenarioServer()
  })
  afterAll(async () => {
    await server.close()
  })

  it('every case: status, body, headers, hits, error kinds and the server\'s counts agree', async () => {
    const node = await run(server, 'node')
    const own = await run(server, 'own')
    expect(own.results).toEqual(node.results)
    expect(own.hits).toEqual(node.hits)
    expect(own.streams).toEqual(node.streams)
    expect(own.sessions).toBe(node.sessions)
    // What the cases must show, so the comparison cannot pass on two clients failing alike.
    const byPath = new Map(own.results.map((r) => [(r as string[])[1], r as unknown[]]))
    expect(byPath.get('/big?n=5000000')!.slice(2, 5)).toEqual([200, 5_000_000, sha256(patterned(5_000_000))])
    expect(byPath.get('/echo')!.slice(2, 7)).toEqual([200, 64, sha256(sha256(patterned(200_000))), null, '200000'])
    expect(byPath.get('/redirect')!.slice(2, 4)).toEqual([200, 'hello GET a=1; b=2 -'.length])
    expect((own.results[2] as unknown[]).slice(2, 4)).toEqual([200, 'hello GET a=1; b=2 '.length + 30_000])
    expect(byPath.get('/rst')!.slice(2)).toEqual(['ERR_HTTP2_STREAM_ERROR', expect.stringContaining('NGHTTP2_INTERNAL_ERROR')])
    expect(byPath.get('/refuse')!.slice(2)).toEqual(['ERR_HTTP2_STREAM_ERROR', expect.stringContaining('NGHTTP2_REFUSED_STREAM')])
    expect(byPath.get('/silent')![2]).toBe('TIMEOUT')
    expect(own.hits).toHaveLength(CASES.length + 1) // the redirect is two hits
    // /goaway ends the first connection: two in all.
    expect(own.sessions).toBe(2)
  })

  it('deliberate difference: 500 header fields are read (node:http2 refuses more than 128)', async () => {
    const results: Record<string, unknown> = {}
    for (const backend of ['node', 'own'] as const) {
      process.env['LOADS_HTTP2'] = backend
      const session = new Session({ sink: new RecordingSink(), h2c: true })
      results[backend] = await session.get(`${server.origin}/many-headers?n=500`).then((r) => Object.keys(r.headers).length, (e: NetworkError) => e.kind)
      await session.close()
    }
    delete process.env['LOADS_HTTP2']
    expect(results).toEqual({ node: 'ERR_HTTP2_STREAM_ERROR', own: 501 })
  })

  it('deliberate difference: a connection cut mid-body is ECONNRESET (node:http2 reports the partial body as a 200)', async () => {
    const results: Record<string, unknown> = {}
    for (const backend of ['node', 'own'] as const) {
      process.env['LOADS_HTTP2'] = backend
      const sink = new RecordingSink()
      const session = new Session({ sink, h2c: true, timeoutMs: 60_000 })
      results[backend] = await session.get(`${server.origin}/cut`).then((r) => [r.status, r.text], (e: NetworkError) => e.kind)
      await session.close()
      expect(sink.hits).toHaveLength(1)
    }
    delete process.env['LOADS_HTTP2']
    expect(results).toEqual({ node: [200, 'partial'], own: 'ECONNRESET' })
  })

  it('--h2-streams 4 on the own client: 10 users ride 3 connections, 50 streams, 50 hits', async () => {
    process.env['LOADS_HTTP2'] = 'own'
    const before = { sessions: server.sessions, streams: server.streams.get('/hello') ?? 0 }
    const share = new ConnectionShare(4)
    const sink = new RecordingSink()
    const users = Array.from({ length: 10 }, () => new Session({ sink, h2c: true, share }))
    try {
      await Promise.all(users.map(async (user) => {
        for (let j = 0; j < 5; j++) expect((await user.get(`${server.origin}/hello`)).status).toBe(200)
      }))
      await Promise.all(users.map((user) => user.close()))
    } finally {
      delete process.env['LOADS_HTTP2']
    }
    expect(server.sessions - before.sessions).toBe(3)
    expect((server.streams.get('/hello') ?? 0) - before.streams).toBe(50)
    expect(sink.hits).toHaveLength(50)
    expect(sink.hits.every((h) => h.status === 200 && h.errorKind === null)).toBe(true)
  })
})

describe('own HTTP/2 client against nginx over TLS (ALPN h2)', () => {
  it('20 users × 10 requests, own then node:http2: hits equal what nginx counted, all 200 with the body', { timeout: 60_000 }, async () => {
    const nginx = (await startNginx({ core: null, tls: true })) as { tlsUrl: string; status: { requests(): Promise<number> }; stop(): Promise<void> }
    try {
      for (const backend of ['own', 'node'] as const) {
        process.env['LOADS_HTTP2'] = backend
        const before = await nginx.status.requests()
        const share = new ConnectionShare()
        const sink = new RecordingSink()
        const bodies = new Set<string>()
        await Promise.all(Array.from({ length: 20 }, async () => {
          const session = new Session({ sink, http2: true, insecure: true, share })
          for (let i = 0; i < 10; i++) bodies.add((await session.get(`${nginx.tlsUrl}/`)).text)
          await session.close()
        }))
        expect((await nginx.status.requests()) - before).toBe(200)
        expect(sink.hits).toHaveLength(200)
        expect(sink.hits.every((h) => h.status === 200 && h.errorKind === null && h.bytesIn === 100)).toBe(true)
        expect([...bodies].map((b) => b.includes('loads-bench-ok'))).toEqual([true])
      }
    } finally {
      delete process.env['LOADS_HTTP2']
      await nginx.stop()
    }
  })
})
