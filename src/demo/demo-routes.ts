import type { IncomingMessage, ServerResponse } from 'node:http'

/**
 * One route of the demo target. The table below is the only list of routes: the server
 * dispatches on it, and its home page and `loads demo --help` print it, so a route added here
 * is documented everywhere at once.
 */
export interface DemoRoute {
  /** `GET`, `POST` …, or `*` for any method. */
  method: string
  /** The path as people read it: `/posts/{id}`, `/slow?ms=N`. */
  path: string
  /** Matches the request's path (the query string is not part of it). */
  pattern: RegExp
  /** One line for the route list. */
  description: string
  /** Answers the request; `match` is `pattern`'s match on the path. */
  handle(req: IncomingMessage, res: ServerResponse, url: URL, match: RegExpExecArray): void
}

export const POSTS = Array.from({ length: 20 }, (_, i) => ({
  id: i + 1,
  title: `Post number ${i + 1}`,
  body: `This is the body of post ${i + 1}. Search engines love it.`,
}))

/** The blog: pages, a session cookie, and routes that misbehave on request. */
const BLOG_ROUTES: DemoRoute[] = [
  {
    method: 'GET',
    path: '/',
    pattern: /^\/$/,
    description: 'the home page (HTML): a search form, links to the posts, and this list of routes',
    handle: (_req, res) => send(res, 200, homePage(), 'text/html; charset=utf-8'),
  },
  {
    method: 'GET',
    path: '/posts',
    pattern: /^\/posts$/,
    description: 'the 20 posts, as JSON: [{ id, title }]',
    handle: (_req, res) => json(res, 200, POSTS.map(({ id, title }) => ({ id, title }))),
  },
  {
    method: 'GET',
    path: '/posts/{id}',
    pattern: /^\/posts\/(\d+)$/,
    description: 'one post (id 1 to 20) as JSON: { id, title, body }; 404 for another id',
    handle: (_req, res, _url, m) => {
      const found = POSTS.find((p) => p.id === Number(m[1]))
      if (found) json(res, 200, found)
      else json(res, 404, { error: 'no such post' })
    },
  },
  {
    method: 'GET',
    path: '/search?q=WORD',
    pattern: /^\/search$/,
    description: 'the ids of the posts whose title or body contains WORD, as JSON',
    handle: (_req, res, url) => {
      const q = (url.searchParams.get('q') ?? '').toLowerCase()
      json(res, 200, POSTS.filter((p) => p.title.toLowerCase().includes(q) || p.body.toLowerCase().includes(q)).map((p) => p.id))
    },
  },
  {
    method: 'POST',
    path: '/login',
    pattern: /^\/login$/,
    description: 'log in as `user` (a form field or JSON): sets a `session` cookie; 400 without a user',
    handle: (req, res) =>
      readBody(req, (body) => {
        const user = new URLSearchParams(body).get('user') ?? safeJson(body)?.user
        if (!user) return json(res, 400, { error: 'user is required' })
        res.setHeader('set-cookie', `session=${encodeURIComponent(String(user))}; Path=/; HttpOnly`)
        json(res, 200, { user })
      }),
  },
  {
    method: 'GET',
    path: '/me',
    pattern: /^\/me$/,
    description: 'the logged-in user, { user }, from the session cookie; 401 without one',
    handle: (req, res) => {
      const m = /(?:^|;\s*)session=([^;]+)/.exec(req.headers.cookie ?? '')
      if (m) json(res, 200, { user: decodeURIComponent(m[1]!) })
      else json(res, 401, { error: 'log in first' })
    },
  },
  {
    method: '*',
    path: '/echo',
    pattern: /^\/echo$/,
    description: 'the request as JSON: { method, headers, query, body }',
    handle: (req, res, url) =>
      readBody(req, (body) => json(res, 200, { method: req.method, headers: req.headers, query: Object.fromEntries(url.searchParams), body })),
  },
  {
    method: '*',
    path: '/slow?ms=N',
    pattern: /^\/slow$/,
    description: 'answers after N ms (default 100, at most 10000): { slept }',
    handle: (_req, res, url) => {
      const ms = Math.min(Number(url.searchParams.get('ms') ?? 100) || 0, 10_000)
      setTimeout(() => json(res, 200, { slept: ms }), ms)
    },
  },
  {
    method: '*',
    path: '/status/NNN',
    pattern: /^\/status\/(\d{3})$/,
    description: 'answers with that HTTP status: { status }',
    handle: (_req, res, _url, m) => json(res, Number(m[1]), { status: Number(m[1]) }),
  },
  {
    method: '*',
    path: '/redirect?to=PATH',
    pattern: /^\/redirect$/,
    description: 'a 302 redirect to PATH (default /)',
    handle: (_req, res, url) => {
      res.writeHead(302, { location: url.searchParams.get('to') ?? '/' })
      res.end()
    },
  },
]

/** Every route of the demo target, in the order they are listed (and tried). */
export const DEMO_ROUTES: readonly DemoRoute[] = [...BLOG_ROUTES]

/** The home page: the blog's search form and posts, then every route with what it does. */
function homePage(): string {
  const rows = DEMO_ROUTES.map((r) => `<tr><td>${escapeHtml(r.method)}</td><td><code>${escapeHtml(r.path)}</code></td><td>${escapeHtml(r.description)}</td></tr>`)
  return `<!doctype html>
<html><head><title>Loads demo blog</title></head>
<body><h1>Loads demo blog</h1>
<form action="/search"><input name="q"><button>Search</button></form>
<ul>${POSTS.map((p) => `<li><a href="/posts/${p.id}">${p.title}</a></li>`).join('')}</ul>
<h2>Routes</h2>
<table><tr><th>method</th><th>path</th><th>what it does</th></tr>
${rows.join('\n')}
</table>
</body></html>
`
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}

/** The route list as plain text, one route a line, for `--help` and the terminal. */
export function formatDemoRoutes(routes: readonly DemoRoute[] = DEMO_ROUTES): string {
  const width = Math.max(...routes.map((r) => `${r.method} ${r.path}`.length))
  return routes.map((r) => `  ${`${r.method} ${r.path}`.padEnd(width)}  ${r.description}`).join('\n')
}

export function send(res: ServerResponse, status: number, body: string, type: string): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) })
  res.end(body)
}

export function json(res: ServerResponse, status: number, value: unknown): void {
  send(res, status, JSON.stringify(value), 'application/json')
}

/** Reads the whole request body as UTF-8, then calls `then`. */
export function readBody(req: IncomingMessage, then: (body: string) => void): void {
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
