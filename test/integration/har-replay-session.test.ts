import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { AssertionError } from '../../src/case/assertion-error.js'
import { extract } from '../../src/case/extract.js'
import { Session } from '../../src/http/session.js'
import { RecordingSink, startServer, type CountingServer, type Handler } from '../helpers/http-servers.js'

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function server(handler: Handler): Promise<{ server: CountingServer; session: Session }> {
  const started = await startServer(handler)
  const session = new Session({ sink: new RecordingSink(), baseUrl: started.origin })
  cleanups.push(() => started.close(), async () => session.close())
  return { server: started, session }
}

describe('what generated HAR replays rely on, against a real server', () => {
  it('sends a header given as a list as separate field lines, as the browser recorded them', async () => {
    // node:http joins repeated headers in req.headers: its rawHeaders show the lines as sent.
    let raw: string[] = []
    const probe = createServer((req, res) => {
      raw = req.rawHeaders
      res.end()
    })
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
    cleanups.push(() => new Promise<void>((resolve) => probe.close(() => resolve())))
    const session = new Session({ sink: new RecordingSink() })
    cleanups.push(async () => session.close())
    await session.get(`http://127.0.0.1:${(probe.address() as AddressInfo).port}/`, { headers: { 'X-Tag': ['a', 'b'], Accept: 'text/html' } })
    const lines = raw.flatMap((name, i) => (i % 2 === 0 ? [[name.toLowerCase(), raw[i + 1]]] : []))
    expect(lines.filter(([name]) => name === 'x-tag')).toEqual([['x-tag', 'a'], ['x-tag', 'b']])
    expect(lines.filter(([name]) => name === 'accept')).toEqual([['accept', 'text/html']])
  })

  it('keeps a seeded __Host- cookie on http://127.0.0.1 (a local origin counts as secure) and sends it', async () => {
    const { server: srv, session } = await server((_req, res) => res.end('ok'))
    session.cookies.set('__Host-sid=h1; Secure; Path=/', `${srv.origin}/`)
    session.cookies.set('__Secure-t=s1; Secure', `${srv.origin}/`)
    await session.get('/')
    expect(srv.requests[0]!.headers.cookie).toBe('__Host-sid=h1; __Secure-t=s1')
  })

  it('extract reads form fields, meta tags, cookies, JSON, Location and text from live responses', async () => {
    const { session } = await server((req, res) => {
      if (req.url === '/page') {
        res.setHeader('set-cookie', 'XSRF-TOKEN=c1; Path=/')
        res.setHeader('content-type', 'text/html')
        return res.end('<meta name="csrf-token" content="m1"><form><input type="hidden" value="f1" name="csrf_token"></form><script>var s = "t-1";</script>')
      }
      if (req.url === '/api') {
        res.writeHead(201, { location: '/api/items/42', 'content-type': 'application/json' })
        return res.end('{"item":{"id":42,"tags":["x"]}}')
      }
      res.end('plain')
    })
    const page = await session.get('/page')
    expect(extract.formField(page, 'csrf_token')).toBe('f1')
    expect(extract.meta(page, 'csrf-token')).toBe('m1')
    expect(extract.cookie(session.cookies, 'XSRF-TOKEN')).toBe('c1')
    expect(extract.between(page, 'var s = "', '"')).toBe('t-1')
    const api = await session.post('/api', { json: {} })
    expect(extract.json(api, ['item', 'id'])).toBe('42')
    expect(extract.json(api, ['item', 'tags', 0])).toBe('x')
    expect(extract.location(api)).toBe(`${new URL(api.url).origin}/api/items/42`)
    expect(extract.locationSegment(api, 3)).toBe('42')
    const plain = await session.get('/plain')
    expect(() => extract.formField(plain, 'csrf_token')).toThrow(AssertionError)
    expect(() => extract.formField(plain, 'csrf_token')).toThrow(`correlation: GET ${plain.url} answered 200 with no <input name="csrf_token">`)
    expect(() => extract.json(plain, ['id'])).toThrow('with a body that is not JSON')
    expect(() => extract.cookie(session.cookies, 'nope')).toThrow('correlation: no cookie "nope" in the jar')
  })
})
