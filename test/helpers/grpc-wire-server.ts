import http2 from 'node:http2'
import type { AddressInfo } from 'node:net'
import { gzipSync } from 'node:zlib'

/** One answer of the wire server: what a unary call's response stream carries, frame by frame. */
export interface WireAnswer {
  /** `trailers-only`: the status in the response headers, no body; `http`: an HTTP status other than 200 and no gRPC status at all; `reset`: RST_STREAM after the headers. */
  shape: 'normal' | 'trailers-only' | 'http' | 'reset' | 'silent'
  /** The HTTP status for shape `http`. */
  httpStatus?: number
  /** Messages sent (each its bytes, gzip-compressed when `gzip`). */
  messages?: { bytes: Buffer; gzip?: boolean }[]
  /** grpc-status and grpc-message (sent percent-encoded, as the spec says). */
  code?: number
  details?: string
  /** Trailing metadata (keys ending in -bin carry base64 values). */
  trailers?: Record<string, string>
  /** The RST_STREAM code for shape `reset`. */
  resetCode?: number
}

/** A request as the wire server received it: its path, the headers a client chooses, and the bytes of its body. */
export interface WireRequest {
  path: string
  headers: Record<string, string>
  body: Buffer
  /** False for a stream the client reset before its end (a cancelled call): `body` is what came. */
  ended: boolean
}

export interface WireServer {
  port: number
  /** Requests in the order they ended (or were reset). */
  requests: WireRequest[]
  /** Resolves once no stream is open: every request is in `requests`. */
  idle(): Promise<void>
  close(): Promise<void>
}

/** grpc-message's encoding: percent-encoding of every byte outside printable ASCII, and of '%'. */
export function percentEncode(details: string): string {
  let out = ''
  for (const byte of Buffer.from(details, 'utf8')) out += byte >= 0x20 && byte <= 0x7e && byte !== 0x25 ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`
  return out
}

function frame(bytes: Buffer, gzip: boolean): Buffer {
  const payload = gzip ? gzipSync(bytes) : bytes
  const head = Buffer.alloc(5)
  head[0] = gzip ? 1 : 0
  head.writeUInt32BE(payload.length, 1)
  return Buffer.concat([head, payload])
}

/**
 * A gRPC server written at the wire (Node's http2, plaintext, 127.0.0.1, port 0) that answers each
 * call as `answer(request)` says — including what no well-behaved server sends (two responses to a
 * unary call, a body that does not parse, an HTTP error): the cases where a client's own handling
 * of a call shows. Every request is kept (path, headers but the ones that vary per connection, body).
 */
export async function startWireServer(answer: (request: WireRequest) => WireAnswer): Promise<WireServer> {
  const requests: WireRequest[] = []
  let open = 0
  const waiters: (() => void)[] = []
  const server = http2.createServer()
  const sessions = new Set<http2.ServerHttp2Session>()
  server.on('session', (session) => {
    sessions.add(session)
    session.once('close', () => sessions.delete(session))
  })
  server.on('stream', (stream, headers) => {
    // A client's RST_STREAM (a cancelled call) is an 'error' of the server's stream: expected here.
    stream.on('error', () => {})
    open++
    const chunks: Buffer[] = []
    const kept: Record<string, string> = {}
    for (const [k, v] of Object.entries(headers)) if (k !== ':authority' && k !== 'user-agent' && typeof v === 'string') kept[k] = v
    let ended = false
    stream.once('close', () => {
      if (!ended) requests.push({ path: String(headers[':path']), headers: kept, body: Buffer.concat(chunks), ended: false })
      if (--open === 0) for (const wake of waiters.splice(0)) wake()
    })
    stream.on('data', (chunk: Buffer) => chunks.push(chunk))
    stream.on('end', () => {
      ended = true
      const request: WireRequest = { path: String(headers[':path']), headers: kept, body: Buffer.concat(chunks), ended: true }
      requests.push(request)
      const a = answer(request)
      const status = { 'grpc-status': String(a.code ?? 0), ...(a.details !== undefined ? { 'grpc-message': percentEncode(a.details) } : {}), ...a.trailers }
      if (a.shape === 'silent') return
      if (a.shape === 'http') {
        stream.respond({ ':status': a.httpStatus ?? 503, 'content-type': 'text/plain' })
        stream.end('not gRPC')
        return
      }
      if (a.shape === 'trailers-only') {
        stream.respond({ ':status': 200, 'content-type': 'application/grpc', ...status }, { endStream: true })
        return
      }
      const gzip = a.messages?.some((m) => m.gzip) === true
      // Trailers are awaited for a reset too: ending the stream first would send END_STREAM, and the
      // RST_STREAM after it would reach no one.
      stream.respond({ ':status': 200, 'content-type': 'application/grpc', ...(gzip ? { 'grpc-encoding': 'gzip' } : {}) }, { waitForTrailers: true })
      if (a.shape === 'reset') {
        // Reset once the messages are written: Node 20's http2 spins (the server's thread, for
        // good) on close() while two writes of a stream awaiting trailers are still queued.
        const reset = (): void => void stream.close(a.resetCode ?? http2.constants.NGHTTP2_INTERNAL_ERROR)
        const messages = a.messages ?? []
        if (messages.length === 0) reset()
        messages.forEach((m, i) => stream.write(frame(m.bytes, m.gzip === true), i === messages.length - 1 ? reset : undefined))
        return
      }
      stream.once('wantTrailers', () => stream.sendTrailers(status))
      for (const m of a.messages ?? []) stream.write(frame(m.bytes, m.gzip === true))
      stream.end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as AddressInfo).port,
    requests,
    idle: () => (open === 0 ? Promise.resolve() : new Promise<void>((resolve) => waiters.push(resolve))),
    close: () =>
      new Promise<void>((resolve) => {
        for (const session of sessions) session.destroy()
        server.close(() => resolve())
      }),
  }
}
