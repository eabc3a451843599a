import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/**
 * A small blog-like HTTP service that ships with Loads, so a newcomer can run a real load test
 * with no server of their own. It counts every request it receives, so a run can be checked
 * against it: hits reported must equal requests received.
 */
export interface DemoServer {
  url: string
  /** Requests received since start, all routes. */
  count(): number
  close(): Promise<void>
}

const POSTS = Array.from({ length: 20 }, (_, i) => ({
  id: i + 1,
  title: `Post number ${i + 1}`,
  body: `This is the body of post ${i + 1}. Search engines love it.`,
}))

const HOME = `<!doctype html>
<html><head><title>Loads demo blog</title></head>
<body><h1>Loads demo blog</h1>
<form action="/search"><input name="q"><button>Search</button></form>
<ul>${POSTS.map((p) => `<li><a href="/posts/${p.id}">${p.title}</a></li>`).join('')}</ul>
</body></html>
`

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
  const path = url.pathname
  if (req.method === 'GET' && path === '/') return send(res, 200, HOME, 'text/html; charset=utf-8')
  if (req.method === 'GET' && path === '/posts') return json(res, 200, POSTS.map(({ id, title }) => ({ id, title })))
  const post = /^\/posts\/(\d+)$/.exec(path)
  if (req.method === 'GET' && post) {
    const found = POSTS.find((p) => p.id === Number(post[1]))
    return found ? json(res, 200, found) : json(res, 404, { error: 'no such post' })
  }
  if (req.method === 'GET' && path === '/search') {
    const q = (url.searchParams.get('q') ?? '').toLowerCase()
    return json(res, 200, POSTS.filter((p) => p.title.toLowerCase().includes(q) || p.body.toLowerCase().includes(q)).map((p) => p.id))
  }
  if (req.method === 'POST' && path === '/login') {
    return readBody(req, (body) => {
      const user = new URLSearchParams(body).get('user') ?? safeJson(body)?.user
      if (!user) return json(res, 400, { error: 'user is required' })
      res.setHeader('set-cookie', `session=${encodeURIComponent(String(user))}; Path=/; HttpOnly`)
      json(res, 200, { user })
    })
  }
  if (req.method === 'GET' && path === '/me') {
    const m = /(?:^|;\s*)session=([^;]+)/.exec(req.headers.cookie ?? '')
    return m ? json(res, 200, { user: decodeURIComponent(m[1]!) }) : json(res, 401, { error: 'log in first' })
  }
  if (path === '/echo') {
    return readBody(req, (body) => json(res, 200, { method: req.method, headers: req.headers, query: Object.fromEntries(url.searchParams), body }))
  }
  if (path === '/slow') {
    const ms = Math.min(Number(url.searchParams.get('ms') ?? 100) || 0, 10_000)
    setTimeout(() => json(res, 200, { slept: ms }), ms)
    return
  }
  const status = /^\/status\/(\d{3})$/.exec(path)
  if (status) return json(res, Number(status[1]), { status: Number(status[1]) })
  if (path === '/redirect') {
    res.writeHead(302, { location: url.searchParams.get('to') ?? '/' })
    res.end()
    return
  }
  json(res, 404, { error: `no route for ${req.method} ${path}` })
}

function send(res: ServerResponse, status: number, body: string, type: string): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) })
  res.end(body)
}

function json(res: ServerResponse, status: number, value: unknown): void {
  send(res, status, JSON.stringify(value), 'application/json')
}

function readBody(req: IncomingMessage, then: (body: string) => void): void {
  const chunks: Buffer[] = []
  req.on('data', (c: Buffer) => chunks.push(c))
  req.on('end', () => then(Buffer.concat(chunks).toString('utf8')))
}

function safeJson(text: string): { user?: unknown } | undefined {
  try {
    return JSON.parse(text) as { user?: unknown }
  } catch {
    return undefined
  }
}
