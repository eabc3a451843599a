import { createHash } from 'node:crypto'
import http2, { createServer, type Http2Server, type ServerHttp2Session } from 'node:http2'
import type { AddressInfo } from 'node:net'

/**
 * An h2c server (node:http2, port 0) whose paths each exercise one part of an HTTP/2 client:
 * cookies, request bodies beyond the server's window, responses beyond the client's windows,
 * header blocks that need CONTINUATION or exceed the client's limit, RST_STREAM before and after
 * the headers, GOAWAY, trailers, 103 Early Hints, redirects, a connection cut mid-body. It counts
 * sessions and streams by path, so a test can compare what two clients made it do.
 */
export interface ScenarioServer {
  origin: string
  sessions: number
  streams: Map<string, number>
  close(): Promise<void>
}

export function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex')
}

/** `n` bytes of a repeating pattern that a sum tells apart from other lengths and offsets. */
export function patterned(n: number): Buffer {
  const out = Buffer.allocUnsafe(n)
  for (let i = 0; i < n; i++) out[i] = (i * 31 + (i >> 8)) & 0xff
  return out
}

export async function startScenarioServer(): Promise<ScenarioServer> {
  const state = { sessions: 0, streams: new Map<string, number>() }
  const open = new Set<ServerHttp2Session>()
  const server: Http2Server = createServer({ maxHeaderListPairs: 2000 })
  server.on('session', (session) => {
    state.sessions++
    open.add(session)
    session.on('close', () => open.delete(session))
    session.on('error', () => {})
  })
  server.on('stream', (stream, headers) => {
    stream.on('error', () => {})
    const url = new URL(String(headers[':path']), 'http://x')
    const path = url.pathname
    state.streams.set(path, (state.streams.get(path) ?? 0) + 1)
    const n = Number(url.searchParams.get('n') ?? 0)
    const chunks: Buffer[] = []
    stream.on('data', (c: Buffer) => chunks.push(c))
    stream.on('end', () => {
      const body = Buffer.concat(chunks)
      switch (path) {
        case '/hello':
          stream.respond({ ':status': 200, 'content-type': 'text/plain', 'set-cookie': ['a=1; Path=/', 'b=2; Path=/'], 'x-multi': 'one' })
          stream.end(`hello ${headers[':method']} ${headers['cookie'] ?? '-'} ${headers['x-client'] ?? '-'}`)
          return
        case '/echo':
          stream.respond({ ':status': 200, 'x-len': String(body.length) })
          stream.end(sha256(body))
          return
        case '/big':
          stream.respond({ ':status': 200, 'content-length': String(n) })
          stream.end(patterned(n))
          return
        case '/204':
          stream.respond({ ':status': 204 })
          stream.end()
          return
        case '/head':
          stream.respond({ ':status': 200, 'content-length': '1234' })
          stream.end(headers[':method'] === 'HEAD' ? undefined : 'x'.repeat(1234))
          return
        case '/header':
          stream.respond({ ':status': 200, 'x-big': 'h'.repeat(n) })
          stream.end('big header')
          return
        case '/many-headers': {
          const many: Record<string, string> = { ':status': '200' }
          for (let i = 0; i < n; i++) many[`x-h${i}`] = `value-${i}`
          stream.respond(many)
          stream.end('many headers')
          return
        }
        case '/rst':
          stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR)
          return
        case '/rst-mid':
          stream.respond({ ':status': 200 })
          stream.write('partial', () => stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR))
          return
        case '/refuse':
          stream.close(http2.constants.NGHTTP2_REFUSED_STREAM)
          return
        case '/goaway': {
          stream.respond({ ':status': 200 })
          const session = stream.session
          stream.end('bye', () => session?.goaway(http2.constants.NGHTTP2_NO_ERROR, stream.id))
          return
        }
        case '/trailers':
          stream.respond({ ':status': 200 }, { waitForTrailers: true })
          stream.on('wantTrailers', () => stream.sendTrailers({ 'x-trailer': 'done' }))
          stream.end('with trailers')
          return
        case '/early':
          stream.additionalHeaders({ ':status': 103, link: '</style.css>; rel=preload' })
          stream.respond({ ':status': 200 })
          stream.end('after 103')
          return
        case '/redirect':
          stream.respond({ ':status': 302, location: '/hello' })
          stream.end()
          return
        case '/cut':
          stream.respond({ ':status': 200 })
          stream.write('partial', () => stream.session?.destroy())
          return
        case '/silent':
          return
        default:
          stream.respond({ ':status': 404 })
          stream.end('no such scenario')
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  return Object.assign(state, {
    origin: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of open) s.destroy()
        server.close(() => resolve())
      }),
  })
}
