import { createSecureServer, constants as h2constants, type Http2SecureServer } from 'node:http2'
import type { AddressInfo } from 'node:net'
import type { ServerResponse } from 'node:http'
import zlib from 'node:zlib'
import { describe, expect, it, vi } from 'vitest'
import { DEFAULT_MAX_BODY_BYTES } from '../../src/http/body-limit.js'
import type { LoadsError, NetworkError } from '../../src/http/errors.js'
import { Session, type SessionOptions } from '../../src/http/session.js'
import { RecordingSink, startServer, type CountingServer } from '../helpers/http-servers.js'
import { wireFixture } from '../helpers/wire-servers.js'

/**
 * Bounded memory: a body over the request's limit fails the hit as BODY_TOO_LARGE and closes its
 * connection (the rest is never read); the limit bounds decoded bodies too (gzip, deflate and br
 * bombs); discarded bodies are counted, not kept. http:// and https:// (Loads' client), undici
 * (LOADS_HTTP1=undici) and HTTP/2.
 */

const MiB = 1024 * 1024
const wire = wireFixture()

/** What the server wrote of each streamed body, and whether the client hung up before the end. */
interface Streamed {
  sentBytes: number
  cut: boolean
}

/**
 * Writes `total` bytes in 64 KiB pieces, respecting back-pressure, with a content-length when
 * `declared`, chunked otherwise; stops writing when the client goes away.
 */
function stream(res: ServerResponse, total: number, declared: boolean, log: Streamed[]): void {
  const entry: Streamed = { sentBytes: 0, cut: false }
  log.push(entry)
  res.writeHead(200, declared ? { 'content-length': String(total) } : {})
  const piece = Buffer.alloc(64 * 1024, 0x61)
  let left = total
  res.on('close', () => {
    if (left > 0 || !res.writableFinished) entry.cut = true
    left = 0
  })
  const pump = (): void => {
    while (left > 0) {
      const n = Math.min(left, piece.length)
      left -= n
      entry.sentBytes += n
      if (!res.write(n === piece.length ? piece : piece.subarray(0, n))) {
        res.once('drain', pump)
        return
      }
    }
    res.end()
  }
  pump()
}

async function server(secure: boolean, log: Streamed[]): Promise<CountingServer> {
  const leaf = wire.ca().issue('localhost', { ips: ['127.0.0.1'] })
  const s = await startServer(
    (req, res) => {
      const url = new URL(req.url, 'http://x')
      const size = Number(url.searchParams.get('size') ?? '0')
      if (url.pathname === '/stream') stream(res, size, url.searchParams.has('declared'), log)
      else res.end('ok')
    },
    secure ? { key: leaf.key, cert: leaf.cert } : undefined,
  )
  wire.cleanup(() => s.close())
  return s
}

function session(sink: RecordingSink, options: Partial<SessionOptions> = {}, SessionClass: typeof Session = Session): Session {
  const s = new SessionClass({ sink, ca: wire.ca().cert, ...options })
  wire.cleanup(() => s.close())
  return s
}

async function failure(promise: Promise<unknown>): Promise<NetworkError> {
  return (await promise.then(
    () => {
      throw new Error('expected the request to fail')
    },
    (e: unknown) => e,
  )) as NetworkError
}

describe.each([
  ['http://', false],
  ['https://', true],
])('the body limit over %s', (_label, secure) => {
  it('fails a chunked body past the limit as BODY_TOO_LARGE, closes the connection, and the next request opens a new one', async () => {
    const log: Streamed[] = []
    const s = await server(secure, log)
    const sink = new RecordingSink()
    const user = session(sink, { maxBodyBytes: 1 * MiB })
    const error = await failure(user.get(`${s.origin}/stream?size=${16 * MiB}`))
    expect(error.kind).toBe('BODY_TOO_LARGE')
    expect(error.message).toMatch(/passed the limit of 1048576 bytes/)
    expect(error.hint).toMatch(/--max-body/)
    expect((await user.get(`${s.origin}/small`)).text).toBe('ok')
    expect(sink.hits.map((h) => h.errorKind)).toEqual(['BODY_TOO_LARGE', null])
    // Counted as received, up to the read that passed the limit; never the whole 16 MiB.
    expect(sink.hits[0]!.bytesIn).toBeGreaterThan(1 * MiB)
    expect(sink.hits[0]!.bytesIn).toBeLessThan(2 * MiB)
    expect(s.requests).toHaveLength(2)
    expect(s.connections).toBe(2)
    await vi.waitFor(() => expect(log[0]!.cut).toBe(true))
    expect(log[0]!.sentBytes).toBeLessThan(16 * MiB)
  })

  it('fails a declared content-length over the limit before reading the body', async () => {
    const log: Streamed[] = []
    const s = await server(secure, log)
    const sink = new RecordingSink()
    const user = session(sink, { maxBodyBytes: 1 * MiB })
    const error = await failure(user.get(`${s.origin}/stream?size=${8 * MiB}&declared`))
    expect(error.kind).toBe('BODY_TOO_LARGE')
    expect(error.message).toMatch(/declares a body of 8388608 bytes \(content-length\), over the limit of 1048576 bytes/)
    expect(sink.hits).toMatchObject([{ status: 0, errorKind: 'BODY_TOO_LARGE', bytesIn: 0 }])
    await vi.waitFor(() => expect(log[0]!.cut).toBe(true))
  })

  it('keeps a body of exactly the limit, whole, joined from its pieces', async () => {
    const log: Streamed[] = []
    const s = await server(secure, log)
    const sink = new RecordingSink()
    const user = session(sink, { maxBodyBytes: 1 * MiB })
    for (const declared of ['&declared', '']) {
      const res = await user.get(`${s.origin}/stream?size=${1 * MiB}${declared}`)
      expect(res.content.length).toBe(1 * MiB)
      expect(res.content.every((b) => b === 0x61)).toBe(true)
      expect(res.bodyBytes).toBe(1 * MiB)
    }
    // One byte more fails, either way.
    await failure(user.get(`${s.origin}/stream?size=${1 * MiB + 1}&declared`))
    await failure(user.get(`${s.origin}/stream?size=${1 * MiB + 1}`))
    expect(sink.hits.map((h) => h.errorKind)).toEqual([null, null, 'BODY_TOO_LARGE', 'BODY_TOO_LARGE'])
    // Kept after both whole bodies; closed after the first failure, so the last request opened a second.
    expect(s.connections).toBe(2)
  })

  it("lets a request's maxBody override the session's, 0 meaning no limit", async () => {
    const s = await server(secure, [])
    const sink = new RecordingSink()
    const user = session(sink, { maxBodyBytes: 64 * 1024 })
    expect((await user.get(`${s.origin}/stream?size=${2 * MiB}`, { maxBody: 0 })).content.length).toBe(2 * MiB)
    expect((await user.get(`${s.origin}/stream?size=${2 * MiB}`, { maxBody: 2 * MiB })).content.length).toBe(2 * MiB)
    expect((await failure(user.get(`${s.origin}/stream?size=${1000}`, { maxBody: 999 }))).kind).toBe('BODY_TOO_LARGE')
    await expect(user.get(`${s.origin}/small`, { maxBody: -1 })).rejects.toMatchObject({ code: 'LOADS_ERR_INVALID_REQUEST' })
    expect(sink.hits).toHaveLength(3)
  })

  it('counts discarded bodies without keeping them; reading one throws LOADS_ERR_BODY_DISCARDED', async () => {
    const s = await server(secure, [])
    const sink = new RecordingSink()
    const user = session(sink, { discardBodies: true, maxBodyBytes: 1 * MiB })
    // Discarded bodies are not kept, so the limit (on what is kept) does not apply to them.
    const res = await user.get(`${s.origin}/stream?size=${4 * MiB}`)
    expect(res.status).toBe(200)
    expect(res.bodyDiscarded).toBe(true)
    expect(res.bodyBytes).toBe(4 * MiB)
    for (const read of [() => res.content, () => res.text, () => res.json(), () => res.rawContent]) {
      expect(read).toThrow(expect.objectContaining({ code: 'LOADS_ERR_BODY_DISCARDED', hint: expect.stringMatching(/discardBody: false/) }) as Error)
    }
    const kept = await user.get(`${s.origin}/small`, { discardBody: false })
    expect(kept.bodyDiscarded).toBe(false)
    expect(kept.text).toBe('ok')
    expect(sink.hits.map((h) => [h.errorKind, h.bytesIn])).toEqual([
      [null, 4 * MiB],
      [null, 2],
    ])
    expect(s.connections).toBe(1) // a discarded body is read to its end: the connection stays
  })
})

describe('the body limit on decoded bodies', () => {
  const bomb = Buffer.alloc(20 * MiB) // 20 MiB of zeros: ~20 kB compressed
  const encoded: Record<string, Buffer> = {
    gzip: zlib.gzipSync(bomb),
    deflate: zlib.deflateSync(bomb),
    br: zlib.brotliCompressSync(bomb),
    'gzip, br': zlib.brotliCompressSync(zlib.gzipSync(bomb)),
  }

  it.each(Object.keys(encoded))('stops decoding %s at the limit: content throws LOADS_ERR_BODY_TOO_LARGE', async (coding) => {
    const s = await startServer((_req, res) => res.writeHead(200, { 'content-encoding': coding }).end(encoded[coding]))
    wire.cleanup(() => s.close())
    const sink = new RecordingSink()
    const user = session(sink, { maxBodyBytes: 1 * MiB })
    const res = await user.get(s.origin)
    // The hit itself is whole: the bytes on the wire are within the limit.
    expect(res.status).toBe(200)
    expect(sink.hits).toMatchObject([{ errorKind: null, bytesIn: encoded[coding]!.length }])
    const before = process.memoryUsage().arrayBuffers
    let error: LoadsError | undefined
    try {
      void res.content
    } catch (e) {
      error = e as LoadsError
    }
    expect(error).toMatchObject({ code: 'LOADS_ERR_BODY_TOO_LARGE', hint: expect.stringMatching(/--max-body/) })
    expect(error!.message).toMatch(/decoded .* over the limit of 1048576 bytes/)
    // zlib stopped at the limit: nothing near the 20 MiB it would have made is held.
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(8 * MiB)
    // With room for it, the same body decodes whole.
    const roomy = await user.get(s.origin, { maxBody: 21 * MiB })
    expect(roomy.content.equals(bomb)).toBe(true)
  })

  it('defaults to DEFAULT_MAX_BODY_BYTES, 32 MiB', () => {
    expect(DEFAULT_MAX_BODY_BYTES).toBe(32 * MiB)
    expect(new Session({ sink: new RecordingSink() }).maxBodyBytes).toBe(32 * MiB)
  })
})

describe('the body limit through undici (LOADS_HTTP1=undici)', () => {
  it('fails the body past the limit as BODY_TOO_LARGE and closes the connection', async () => {
    vi.stubEnv('LOADS_HTTP1', 'undici')
    vi.resetModules()
    const { Session: UndiciSession } = await import('../../src/http/session.js')
    vi.unstubAllEnvs()
    const log: Streamed[] = []
    const s = await server(false, log)
    const sink = new RecordingSink()
    const user = session(sink, { maxBodyBytes: 1 * MiB }, UndiciSession)
    expect((await failure(user.get(`${s.origin}/stream?size=${16 * MiB}`))).kind).toBe('BODY_TOO_LARGE')
    expect((await failure(user.get(`${s.origin}/stream?size=${8 * MiB}&declared`))).kind).toBe('BODY_TOO_LARGE')
    expect((await user.get(`${s.origin}/small`)).text).toBe('ok')
    expect(s.connections).toBe(3)
    await vi.waitFor(() => expect(log.map((l) => l.cut)).toEqual([true, true]))
  })
})

describe('the body limit over HTTP/2', () => {
  it('resets the stream of a body past the limit (BODY_TOO_LARGE); the connection serves the next request', async () => {
    const big = await bigBodyServer(16 * MiB, false)
    const { origin, resets } = big
    const sink = new RecordingSink()
    const user = session(sink, { http2: true, maxBodyBytes: 1 * MiB })
    expect((await failure(user.get(`${origin}/big`))).kind).toBe('BODY_TOO_LARGE')
    expect((await user.get(`${origin}/small`)).text).toBe('ok')
    await user.close()
    await vi.waitFor(() => expect(resets).toEqual([h2constants.NGHTTP2_CANCEL]))
    expect(big.sessions()).toBe(1)
  })

  it.each(['wire', 'node'] as const)('fails a declared content-length over the limit before reading the body, as over HTTP/1.1 (LOADS_HTTP2=%s)', async (backend) => {
    const previous = process.env['LOADS_HTTP2']
    process.env['LOADS_HTTP2'] = backend
    try {
      const big = await bigBodyServer(8 * MiB, true)
      const { origin, resets, sent } = big
      const sink = new RecordingSink()
      const user = session(sink, { http2: true, maxBodyBytes: 1 * MiB })
      const error = await failure(user.get(`${origin}/big`))
      expect(error.kind).toBe('BODY_TOO_LARGE')
      expect(error.message).toMatch(/declares a body of 8388608 bytes \(content-length\), over the limit of 1048576 bytes/)
      expect((await user.get(`${origin}/small`)).text).toBe('ok')
      await user.close()
      expect(sink.hits).toMatchObject([
        { status: 0, errorKind: 'BODY_TOO_LARGE', bytesIn: 0 },
        { status: 200, errorKind: null },
      ])
      await vi.waitFor(() => expect(resets).toEqual([h2constants.NGHTTP2_CANCEL]))
      expect(sent).toHaveLength(1)
      expect(sent[0]!).toBeLessThan(8 * MiB)
      expect(big.sessions()).toBe(1)
    } finally {
      if (previous === undefined) delete process.env['LOADS_HTTP2']
      else process.env['LOADS_HTTP2'] = previous
    }
  })
})

/**
 * An HTTP/2 TLS server answering /small with 'ok' and any other path with `bytes` of 'a' in 64 KiB
 * writes (with a content-length if `declare`): counts its sessions, each big stream's bytes written
 * and its reset code.
 */
async function bigBodyServer(bytes: number, declare: boolean): Promise<{ origin: string; resets: number[]; sent: number[]; sessions: () => number }> {
  const leaf = wire.ca().issue('localhost', { ips: ['127.0.0.1'] })
  const resets: number[] = []
  const sent: number[] = []
  let sessions = 0
  const h2: Http2SecureServer = createSecureServer({ key: leaf.key, cert: leaf.cert })
  h2.on('session', () => sessions++)
  h2.on('stream', (stream, headers) => {
    if (headers[':path'] === '/small') {
      stream.respond({ ':status': 200 })
      stream.end('ok')
      return
    }
    stream.respond(declare ? { ':status': 200, 'content-length': String(bytes) } : { ':status': 200 })
    stream.on('close', () => resets.push(stream.rstCode))
    const entry = sent.push(0) - 1
    const piece = Buffer.alloc(64 * 1024, 0x61)
    const pump = (): void => {
      while (sent[entry]! < bytes && !stream.destroyed) {
        sent[entry]! += piece.length
        if (!stream.write(piece)) return void stream.once('drain', pump)
      }
      if (!stream.destroyed) stream.end()
    }
    pump()
  })
  await new Promise<void>((resolve) => h2.listen(0, '127.0.0.1', resolve))
  wire.cleanup(() => new Promise<void>((resolve) => h2.close(() => resolve())))
  return { origin: `https://127.0.0.1:${(h2.address() as AddressInfo).port}`, resets, sent, sessions: () => sessions }
}
