import type { Handler } from './http-servers.js'

/** A small API: JSON echoes, 201 for POST, a login cookie, a redirect, a 404 and a long list. */
export const apiHandler: Handler = (req, res) => {
  const pathname = req.url.split('?')[0]
  if (pathname === '/redirect') {
    res.writeHead(302, { location: '/hello' })
    res.end()
    return
  }
  res.setHeader('content-type', 'application/json')
  if (pathname === '/missing') {
    res.statusCode = 404
    res.end('{"error":"not found"}')
    return
  }
  if (pathname === '/big') {
    res.end(JSON.stringify(Array.from({ length: 100 }, (_, i) => ({ id: i, name: `item ${i}` }))))
    return
  }
  if (pathname === '/login') res.setHeader('set-cookie', 'sid=s1; Path=/; HttpOnly')
  res.statusCode = req.method === 'POST' && pathname !== '/login' ? 201 : 200
  res.end(JSON.stringify({ method: req.method, url: req.url, body: req.body.toString(), token: req.headers['x-token'] ?? null }))
}
