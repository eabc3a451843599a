import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo, Server as NetServer } from 'node:net'
import { createServer as createNetServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { HitSink } from '../../src/stats/hit-sink.js'
import { resetOnRetry } from './retry-reset.js'

/** What a test server saw of one request. */
export interface ReceivedRequest {
  method: string
  /** Path and query as sent on the request line. */
  url: string
  headers: IncomingMessage['headers']
  body: Buffer
}

/** A real server on 127.0.0.1, port 0, that counts requests and TCP connections. */
export interface CountingServer {
  /** `http://127.0.0.1:port` (or https). */
  readonly origin: string
  readonly port: number
  readonly requests: ReceivedRequest[]
  /** TCP connections accepted so far. */
  connections: number
  close(): Promise<void>
}

export type Handler = (req: ReceivedRequest, res: ServerResponse) => void

/** Starts an http (or, with `tls`, https) server that records every request, then lets `handler` answer. */
export async function startServer(handler: Handler, tls?: TlsFixture): Promise<CountingServer> {
  const requests: ReceivedRequest[] = []
  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const received = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) }
      requests.push(received)
      handler(received, res)
    })
  }
  const server = tls === undefined ? createHttpServer(listener) : createHttpsServer({ key: tls.key, cert: tls.cert }, listener)
  const state = { connections: 0 }
  server.on(tls === undefined ? 'connection' : 'secureConnection', () => state.connections++)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  const forget = resetOnRetry(() => {
    requests.length = 0
    state.connections = 0
  })
  return {
    origin: `${tls === undefined ? 'http' : 'https'}://127.0.0.1:${port}`,
    port,
    requests,
    get connections() {
      return state.connections
    },
    set connections(value: number) {
      state.connections = value
    },
    close: () =>
      new Promise<void>((resolve) => {
        forget()
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

/** A raw TCP server whose `onSocket` decides what to do (never answer, hang up …). */
export async function startRawServer(onSocket: (socket: import('node:net').Socket) => void): Promise<{
  port: number
  close(): Promise<void>
}> {
  const sockets = new Set<import('node:net').Socket>()
  const server: NetServer = createNetServer((socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => {})
    onSocket(socket)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resolve())
      }),
  }
}

/** A port that was just listening and is now closed: connecting to it is refused. */
export async function closedPort(): Promise<number> {
  const server = createNetServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

/** One recorded hit, as the sink received it. */
export interface RecordedHit {
  method: string
  name: string
  status: number
  totalUs: number
  ttfbUs: number
  connectUs: number
  bytesIn: number
  bytesOut: number
  errorKind: string | null
}

/** A HitSink that keeps every hit, for assertions. */
export class RecordingSink implements HitSink {
  readonly hits: RecordedHit[] = []
  /** Connections dropped because the server sent bytes no request asked for. */
  strayBytes = 0

  recordStrayBytes(): void {
    this.strayBytes++
  }

  recordHit(
    method: string,
    name: string,
    status: number,
    totalUs: number,
    ttfbUs: number,
    connectUs: number,
    bytesIn: number,
    bytesOut: number,
    errorKind: string | null,
  ): void {
    this.hits.push({ method, name, status, totalUs, ttfbUs, connectUs, bytesIn, bytesOut, errorKind })
  }
}

/** A self-signed certificate for localhost and 127.0.0.1, made with openssl at test time. */
export interface TlsFixture {
  key: string
  cert: string
}

/** Generates a fresh self-signed P-256 certificate (CN localhost, SAN localhost + 127.0.0.1). */
export function makeSelfSignedCert(): TlsFixture {
  const dir = mkdtempSync(join(tmpdir(), 'loads-http-tls-'))
  try {
    execFileSync(
      'openssl',
      [
        'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
        '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '36500',
        '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
      ],
      { stdio: 'ignore' },
    )
    return { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8') }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
