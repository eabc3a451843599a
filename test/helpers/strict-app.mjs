// A small web app as strict as real ones, for recording browser journeys (HAR) and replaying
// them under load: every session has its own server-made id, every unsafe request must carry
// the session's CSRF token in the way the page gave it (a hidden form field, a <meta> tag read by
// script, or the double-submit cookie echoed in a header) and an Origin that is the server's own,
// and items get ids the server invents. A replay that sends recorded values back is refused.
// Plain JavaScript so that scripts/record-har-journeys.mjs (Node, no TypeScript) can start it.
import { randomBytes } from 'node:crypto'
import { createServer } from 'node:http'
import { gzipSync } from 'node:zlib'

const token = () => randomBytes(12).toString('hex')

/**
 * Starts the app on 127.0.0.1, port 0. `stats` counts what it saw: logins (and their distinct
 * session ids), refusals by reason, and requests by `METHOD /route`.
 * @returns {Promise<{ origin: string, stats: { logins: number, sessions: Set<string>, refused: Record<string, number>, routes: Record<string, number>, uploads: number[], blobs: number[], createdBySession: Record<string, number>, arrivals: [string, number][] }, close(): Promise<void> }>}
 */
export async function startStrictApp() {
  /** sid → { csrf, user, items: Map<id, {name, blob?}> } */
  const sessions = new Map()
  const stats = { logins: 0, sessions: new Set(), refused: {}, routes: {}, uploads: [], blobs: [], createdBySession: {}, arrivals: [] }
  let origin = ''

  const server = createServer((req, res) => {
    const chunks = []
    req.on('data', (c) => chunks.push(c))
    req.on('end', () => handle(req, res, Buffer.concat(chunks)))
  })

  function refuse(res, status, reason) {
    stats.refused[reason] = (stats.refused[reason] ?? 0) + 1
    res.writeHead(status, { 'content-type': 'text/plain' }).end(`${reason}\n`)
  }

  function cookies(req) {
    const jar = {}
    for (const pair of (req.headers.cookie ?? '').split(';')) {
      const eq = pair.indexOf('=')
      if (eq > 0) jar[pair.slice(0, eq).trim()] = pair.slice(eq + 1).trim()
    }
    return jar
  }

  function page(res, title, body, headers = {}) {
    const html = `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title>${headers.meta ?? ''}<link rel="stylesheet" href="/app.css"></head><body>${body}</body></html>`
    delete headers.meta
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', ...headers }).end(html)
  }

  function handle(req, res, body) {
    const url = new URL(req.url ?? '/', origin)
    const route = `${req.method} ${url.pathname.replace(/\/[0-9a-f]{24}(?=\/|$)/g, '/{id}')}`
    stats.routes[route] = (stats.routes[route] ?? 0) + 1
    stats.arrivals.push([route, performance.now()])
    const jar = cookies(req)
    const sid = jar['__Host-sid'] ?? jar.sid
    const session = sid === undefined ? undefined : sessions.get(sid)
    const unsafe = req.method !== 'GET' && req.method !== 'HEAD'
    if (unsafe && req.headers.origin !== origin) return refuse(res, 403, 'origin')

    if (route === 'GET /app.css') {
      return res.writeHead(200, { 'content-type': 'text/css', 'cache-control': 'max-age=3600' }).end('body { font: 16px sans-serif }\n')
    }
    if (route === 'GET /') {
      return page(res, 'Home', '<a href="/login">Sign in</a>')
    }
    if (route === 'GET /login') {
      if (session?.user !== undefined) return res.writeHead(302, { location: '/items' }).end()
      const fresh = token()
      const csrf = token()
      sessions.set(fresh, { csrf, user: undefined, items: new Map() })
      return page(
        res,
        'Sign in',
        `<form method="post" action="/login"><input type="hidden" name="csrf_token" value="${csrf}">` +
          '<input name="username"><input name="password" type="password"><button>Sign in</button></form>',
        { 'set-cookie': `sid=${fresh}; Path=/; HttpOnly; SameSite=Lax` },
      )
    }
    if (route === 'POST /login') {
      const form = new URLSearchParams(body.toString())
      if (session === undefined || form.get('csrf_token') !== session.csrf) return refuse(res, 403, 'csrf-form')
      if (form.get('password') !== 'secret') return refuse(res, 401, 'password')
      sessions.delete(sid)
      const next = token()
      sessions.set(next, { csrf: token(), user: form.get('username'), items: new Map() })
      stats.logins++
      stats.sessions.add(next)
      return res
        .writeHead(303, {
          location: '/items',
          'set-cookie': [`sid=${next}; Path=/; HttpOnly; SameSite=Lax`, `XSRF-TOKEN=${token()}; Path=/; SameSite=Lax`],
        })
        .end()
    }
    if (session?.user === undefined) return refuse(res, 401, 'login')

    if (route === 'GET /items') {
      const list = [...session.items].map(([id, item]) => `<li><a href="/items/${id}">${item.name}</a></li>`).join('')
      return page(
        res,
        'Items',
        `<ul id="items">${list}</ul><form id="add"><input name="name"><button>Add</button></form>` +
          '<script>const t=document.querySelector("meta[name=csrf-token]").content;' +
          'fetch("/api/items").then((r)=>r.json()).then((j)=>{document.title="Items ("+j.items.length+")"});' +
          'document.getElementById("add").onsubmit=async(e)=>{e.preventDefault();' +
          'const r=await fetch("/api/items",{method:"POST",headers:{"content-type":"application/json","x-csrf-token":t},body:JSON.stringify({name:e.target.name.value})});' +
          'const item=await r.json();location.href="/items/"+item.id}</script>',
        { meta: `<meta name="csrf-token" content="${session.csrf}">` },
      )
    }
    if (route === 'GET /api/items') {
      const json = JSON.stringify({ items: [...session.items].map(([id, item]) => ({ id, name: item.name })) })
      const etag = `"${json.length}-${session.items.size}"`
      if (req.headers['if-none-match'] === etag) return res.writeHead(304, { etag }).end()
      const gz = gzipSync(json)
      return res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip', etag, 'cache-control': 'no-cache' }).end(gz)
    }
    if (route === 'POST /api/items') {
      if (req.headers['x-csrf-token'] !== session.csrf) return refuse(res, 403, 'csrf-meta')
      let name
      try {
        name = String(JSON.parse(body.toString()).name)
      } catch {
        return refuse(res, 400, 'json')
      }
      const id = randomBytes(12).toString('hex')
      session.items.set(id, { name })
      stats.createdBySession[sid] = (stats.createdBySession[sid] ?? 0) + 1
      return res.writeHead(201, { 'content-type': 'application/json', location: `/api/items/${id}` }).end(JSON.stringify({ id, name }))
    }
    const itemMatch = /^\/(api\/)?items\/([0-9a-f]{24})(\/upload|\/blob)?$/.exec(url.pathname)
    const item = itemMatch === null ? undefined : session.items.get(itemMatch[2])
    if (itemMatch !== null && item === undefined) return refuse(res, 404, 'item')
    if (route === 'GET /items/{id}') {
      return page(
        res,
        item.name,
        `<h1>${item.name}</h1><form method="post" action="/items/${itemMatch[2]}/upload" enctype="multipart/form-data">` +
          `<input type="hidden" name="csrf_token" value="${session.csrf}"><input type="file" name="file"><button>Upload</button></form>` +
          `<button id="blob">Save bytes</button><button id="del">Delete</button>` +
          '<script>const x=()=>document.cookie.split("; ").find((c)=>c.startsWith("XSRF-TOKEN=")).slice(11);' +
          `document.getElementById("blob").onclick=async()=>{await fetch("/api/items/${itemMatch[2]}/blob",{method:"PUT",headers:{"content-type":"application/octet-stream","x-xsrf-token":x()},body:new Uint8Array(534).map((_, i)=>(i*37+11)%256)});document.title="saved"};` +
          `document.getElementById("del").onclick=async()=>{await fetch("/api/items/${itemMatch[2]}",{method:"DELETE",headers:{"x-xsrf-token":x()}});location.href="/items"}</script>`,
      )
    }
    if (route === 'POST /items/{id}/upload') {
      const boundary = /boundary=(.+)$/.exec(req.headers['content-type'] ?? '')?.[1]
      const text = body.toString('latin1')
      const csrf = /name="csrf_token"\r\n\r\n([^\r]*)\r\n/.exec(text)?.[1]
      if (boundary === undefined || csrf !== session.csrf) return refuse(res, 403, 'csrf-multipart')
      const file = /name="file"; filename="[^"]*"\r\nContent-Type: [^\r]*\r\n\r\n([\s\S]*?)\r\n--/.exec(text)?.[1]
      if (file === undefined) return refuse(res, 400, 'upload')
      stats.uploads.push(Buffer.byteLength(file, 'latin1'))
      return res.writeHead(303, { location: `/items/${itemMatch[2]}` }).end()
    }
    const doubleSubmit = req.headers['x-xsrf-token'] !== undefined && req.headers['x-xsrf-token'] === jar['XSRF-TOKEN']
    if (route === 'PUT /api/items/{id}/blob') {
      if (!doubleSubmit) return refuse(res, 403, 'csrf-cookie')
      item.blob = body
      stats.blobs.push(body.length)
      return res.writeHead(204).end()
    }
    if (route === 'DELETE /api/items/{id}') {
      if (!doubleSubmit) return refuse(res, 403, 'csrf-cookie')
      session.items.delete(itemMatch[2])
      return res.writeHead(204).end()
    }
    refuse(res, 404, 'route')
  }

  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  origin = `http://127.0.0.1:${server.address().port}`
  return {
    origin,
    stats,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
