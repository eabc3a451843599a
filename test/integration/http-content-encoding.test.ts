import zlib from 'node:zlib'
import { afterEach, describe, expect, it } from 'vitest'
import { LoadsError } from '../../src/http/errors.js'
import { Session } from '../../src/http/session.js'
import { RecordingSink, startServer, type CountingServer } from '../helpers/http-servers.js'

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

const DOCUMENT = JSON.stringify({ items: Array.from({ length: 200 }, (_, i) => ({ id: i, name: `item ${i} é` })) })
const ENCODERS: Record<string, (b: Buffer) => Buffer> = {
  gzip: (b) => zlib.gzipSync(b),
  deflate: (b) => zlib.deflateSync(b),
  'raw-deflate': (b) => zlib.deflateRawSync(b),
  br: (b) => zlib.brotliCompressSync(b),
  'gzip, br': (b) => zlib.brotliCompressSync(zlib.gzipSync(b)),
}

/** Answers /<coding> with DOCUMENT encoded that way; `raw-deflate` is sent as `deflate`. */
async function compressingServer(): Promise<CountingServer> {
  const server = await startServer((req, res) => {
    const coding = decodeURIComponent(req.url.slice(1))
    if (coding === 'broken') {
      res.writeHead(200, { 'content-encoding': 'gzip' })
      res.end('this is not gzip')
      return
    }
    const encode = ENCODERS[coding]
    const body = encode === undefined ? Buffer.from(DOCUMENT) : encode(Buffer.from(DOCUMENT))
    res.writeHead(200, { 'content-type': 'application/json', ...(encode === undefined ? {} : { 'content-encoding': coding === 'raw-deflate' ? 'deflate' : coding }) })
    res.end(body)
  })
  cleanups.push(() => server.close())
  return server
}

function session(baseUrl: string): { s: Session; sink: RecordingSink } {
  const sink = new RecordingSink()
  const s = new Session({ sink, baseUrl })
  cleanups.push(() => s.close())
  return { s, sink }
}

describe('compressed responses', () => {
  it.each(Object.keys(ENCODERS))('decodes content-encoding %s when the body is read, and counts the bytes received', async (coding) => {
    const server = await compressingServer()
    const { s, sink } = session(server.origin)
    const res = await s.get(`/${encodeURIComponent(coding)}`, { headers: { 'accept-encoding': 'gzip, deflate, br' } })
    const wire = ENCODERS[coding]!(Buffer.from(DOCUMENT))
    expect(res.rawContent.equals(wire)).toBe(true)
    expect(res.text).toBe(DOCUMENT)
    expect(res.json<{ items: unknown[] }>().items).toHaveLength(200)
    expect(res.content.length).toBe(Buffer.byteLength(DOCUMENT))
    // The hit counts what crossed the network, not the decoded size.
    expect(sink.hits).toHaveLength(1)
    expect(sink.hits[0]!.bytesIn).toBe(wire.length)
    expect(server.requests).toHaveLength(1)
  })

  it('leaves an uncompressed body as it is (content is rawContent)', async () => {
    const server = await compressingServer()
    const { s } = session(server.origin)
    const res = await s.get('/plain')
    expect(res.content).toBe(res.rawContent)
    expect(res.text).toBe(DOCUMENT)
  })

  it('throws LOADS_ERR_CONTENT_DECODING when the body is read, not when the request completes', async () => {
    const server = await compressingServer()
    const { s, sink } = session(server.origin)
    const res = await s.get('/broken')
    expect(res.status).toBe(200)
    expect(sink.hits).toHaveLength(1)
    expect(sink.hits[0]!.errorKind).toBeNull()
    expect(() => res.text).toThrow(LoadsError)
    expect(() => res.content).toThrow(/not valid gzip/)
    expect(res.rawContent.toString()).toBe('this is not gzip')
  })
})
