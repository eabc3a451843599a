import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { resetOnRetry } from './retry-reset.js'

/** A request as the server saw it. */
export interface Received {
  method: string
  path: string
  headers: IncomingMessage['headers']
  body: string
}

/**
 * A real HTTP server on 127.0.0.1, port 0, that counts what it receives. Tests assert the
 * engine's reported hits against `count`, never against the engine's own claims alone.
 */
export interface CountingServer {
  url: string
  port: number
  /** Every request received, in order (bodies included). Capped at `keep` entries. */
  received: Received[]
  count: number
  countByPath: Map<string, number>
  connections: number
  close(): Promise<void>
}

export type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void

export async function startCountingServer(handler?: Handler, keep = 100_000): Promise<CountingServer> {
  const state: Omit<CountingServer, 'url' | 'port' | 'close'> = {
    received: [],
    count: 0,
    countByPath: new Map(),
    connections: 0,
  }
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8')
      const path = (req.url ?? '/').split('?')[0]!
      state.count++
      state.countByPath.set(path, (state.countByPath.get(path) ?? 0) + 1)
      if (state.received.length < keep) state.received.push({ method: req.method ?? '', path: req.url ?? '/', headers: req.headers, body })
      if (handler) handler(req, res, body)
      else {
        res.writeHead(200, { 'content-type': 'text/plain' })
        res.end('Search OK')
      }
    })
  })
  server.on('connection', () => state.connections++)
  server.keepAliveTimeout = 30_000
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  const forget = resetOnRetry(() => {
    state.received.length = 0
    state.count = 0
    state.countByPath.clear()
    state.connections = 0
  })
  return Object.assign(state, {
    url: `http://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        forget()
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }) as CountingServer
}
