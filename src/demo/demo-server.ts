import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { DEMO_ROUTES, json } from './demo-routes.js'

/**
 * A small blog-like HTTP service that ships with Loads, so a newcomer can run a real load test
 * with no server of their own. It counts every request it receives, so a run can be checked
 * against it: hits reported must equal requests received. Its routes are in demo-routes.ts.
 */
export interface DemoServer {
  url: string
  /** Requests received since start, all routes. */
  count(): number
  close(): Promise<void>
}

export async function startDemoServer(options: { host?: string; port?: number } = {}): Promise<DemoServer> {
  let received = 0
  const server: Server = createServer((req, res) => {
    received++
    route(req, res)
  })
  server.keepAliveTimeout = 60_000
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve())
  })
  const { address, port } = server.address() as AddressInfo
  const host = address.includes(':') ? `[${address}]` : address
  return {
    url: `http://${host}:${port}`,
    count: () => received,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}

function route(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://demo')
  for (const r of DEMO_ROUTES) {
    if (r.method !== '*' && r.method !== req.method) continue
    const match = r.pattern.exec(url.pathname)
    if (match) return r.handle(req, res, url, match)
  }
  json(res, 404, { error: `no route for ${req.method} ${url.pathname}`, routes: DEMO_ROUTES.map((r) => `${r.method} ${r.path}`) })
}
