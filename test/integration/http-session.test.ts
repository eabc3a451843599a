import type { ServerResponse } from 'node:http'
import { afterEach, describe, expect, it } from 'vitest'
import { HTTPError, LoadsError, NetworkError, TooManyRedirectsError } from '../../src/http/errors.js'
import { Session } from '../../src/http/session.js'
import {
  closedPort,
  makeSelfSignedCert,
  RecordingSink,
  startRawServer,
  startServer,
  type CountingServer,
  type Handler,
} from '../helpers/http-servers.js'

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function server(handler: Handler = (_req, res) => res.end('ok')): Promise<CountingServer> {
  const started = await startServer(handler)
  cleanups.push(() => started.close())
  return started
}

function session(baseUrl?: string, extra: Partial<ConstructorParameters<typeof Session>[0]> = {}) {
  const sink = new RecordingSink()
  const created = new Session({ sink, ...(baseUrl === undefined ? {} : { baseUrl }), ...extra })
  cleanups.push(() => created.close())
  return { sink, s: created }
}

async function networkError(promise: Promise<unknown>): Promise<NetworkError> {
  const err = await promise.then(
    () => {
      throw new Error('expected the request to fail')
    },
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(NetworkError)
  return err as NetworkError
}

describe('Session verbs and request encoding', () => {
  it('sends every verb once and records one hit per request', async () => {
    const srv = await server((req, res) => res.end(req.method === 'HEAD' ? undefined : `${req.method} done`))
    const { s, sink } = session(srv.origin)
    await s.get('/v')
    await s.post('/v')
    await s.put('/v')
    await s.patch('/v')
    await s.delete('/v')
    const head = await s.head('/v')
    await s.options('/v')
    const custom = await s.request('PURGE', '/v')
    expect(srv.requests.map((r) => r.method)).toEqual(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'PURGE'])
    expect(sink.hits.map((h) => h.method)).toEqual(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'PURGE'])
    expect(sink.hits.length).toBe(srv.requests.length)
    expect(head.content.length).toBe(0)
    expect(custom.text).toBe('PURGE done')
    for (const hit of sink.hits) {
      expect(hit).toMatchObject({ name: '/v', status: 200, errorKind: null })
      expect(hit.totalUs).toBeGreaterThanOrEqual(hit.ttfbUs)
      expect(hit.ttfbUs).toBeGreaterThan(0)
    }
    expect(sink.hits[0]!.bytesIn).toBe('GET done'.length)
  })

  it('merges params into the query string and names the hit by path alone', async () => {
    const srv = await server()
    const { s, sink } = session(srv.origin)
    await s.get('/search?q=a', { params: { page: 2, tag: ['x', 'y z'], skip: null } })
    await s.get('/search', { params: new URLSearchParams({ q: 'é' }) })
    await s.get('/items/42', { name: '/items/{id}' })
    expect(srv.requests.map((r) => r.url)).toEqual(['/search?q=a&page=2&tag=x&tag=y+z', '/search?q=%C3%A9', '/items/42'])
    expect(sink.hits.map((h) => h.name)).toEqual(['/search', '/search', '/items/{id}'])
  })

  it('sends json, form data, raw data and raw bodies exactly, counting bytes out', async () => {
    const srv = await server()
    const { s, sink } = session(srv.origin)
    await s.post('/json', { json: { a: 1, b: ['x'] } })
    await s.post('/form', { data: { a: 1, b: 'x y', c: ['1', '2'] } })
    await s.post('/text', { data: 'plain text' })
    await s.put('/bytes', { body: Buffer.from([0, 1, 2, 255]) })
    await s.put('/u8', { body: new Uint8Array([9, 8]) })
    await s.post('/typed', { json: [1], headers: { 'Content-Type': 'application/vnd.api+json' } })
    const [json, form, text, bytes, u8, typed] = srv.requests
    expect(json!.body.toString()).toBe('{"a":1,"b":["x"]}')
    expect(json!.headers['content-type']).toBe('application/json')
    expect(form!.body.toString()).toBe('a=1&b=x+y&c=1&c=2')
    expect(form!.headers['content-type']).toBe('application/x-www-form-urlencoded')
    expect(text!.body.toString()).toBe('plain text')
    expect(text!.headers['content-type']).toBeUndefined()
    expect([...bytes!.body]).toEqual([0, 1, 2, 255])
    expect([...u8!.body]).toEqual([9, 8])
    expect(typed!.headers['content-type']).toBe('application/vnd.api+json')
    expect(sink.hits.map((h) => h.bytesOut)).toEqual([17, 17, 10, 4, 2, 3])
  })

  it('refuses two bodies at once without sending anything', async () => {
    const srv = await server()
    const { s, sink } = session(srv.origin)
    await expect(s.post('/x', { json: 1, body: 'b' })).rejects.toMatchObject({ code: 'LOADS_ERR_INVALID_REQUEST' })
    expect(srv.requests.length).toBe(0)
    expect(sink.hits.length).toBe(0)
  })

  it('sends per-request headers over session defaults, case-insensitively, and basic auth', async () => {
    const srv = await server()
    const { s } = session(srv.origin, { headers: { 'X-Team': 'perf' } })
    s.headers['X-Default'] = 'on'
    await s.get('/h', { headers: { 'x-default': 'overridden', 'X-Extra': '1' }, auth: ['ana', 's3cret:x'] })
    await s.get('/h')
    const [first, second] = srv.requests
    expect(first!.headers['x-default']).toBe('overridden')
    expect(first!.headers['x-extra']).toBe('1')
    expect(first!.headers['x-team']).toBe('perf')
    expect(first!.headers['user-agent']).toMatch(/^loads-runner/)
    expect(first!.headers.authorization).toBe(`Basic ${Buffer.from('ana:s3cret:x').toString('base64')}`)
    expect(second!.headers['x-default']).toBe('on')
    expect(second!.headers['x-extra']).toBeUndefined()
    expect(second!.headers.authorization).toBeUndefined()
  })
})

describe('Response', () => {
  it('exposes status, reason, headers, text, json, url, elapsed and the request sent', async () => {
    const srv = await server((_req, res) => {
      res.setHeader('X-Multi', ['a', 'b'])
      res.setHeader('Content-Type', 'application/json')
      res.end(JSON.stringify({ hello: 'wörld' }))
    })
    const { s } = session(srv.origin)
    const r = await s.get('/data', { headers: { 'X-Req': 'yes' } })
    expect(r.status).toBe(200)
    expect(r.statusCode).toBe(200)
    expect(r.ok).toBe(true)
    expect(r.reason).toBe('OK')
    expect(r.headers['content-type']).toBe('application/json')
    expect(r.headers['x-multi']).toBe('a, b')
    expect(r.getAll('X-Multi')).toEqual(['a', 'b'])
    expect(r.json<{ hello: string }>().hello).toBe('wörld')
    expect(r.text).toBe('{"hello":"wörld"}')
    expect(r.content.length).toBe(Buffer.byteLength('{"hello":"wörld"}'))
    expect(r.url).toBe(`${srv.origin}/data`)
    expect(r.elapsed).toBeGreaterThan(0)
    expect(r.history).toEqual([])
    expect(r.request).toMatchObject({ method: 'GET', url: `${srv.origin}/data` })
    expect(r.request.headers['x-req']).toBe('yes')
  })

  it('collects a body sent in many chunks', async () => {
    const srv = await server((_req, res) => {
      let i = 0
      const write = (): void => {
        if (i === 20) {
          res.end()
          return
        }
        res.write(Buffer.alloc(1000, 97 + (i++ % 26)))
        setImmediate(write)
      }
      write()
    })
    const { s, sink } = session(srv.origin)
    const r = await s.get('/big')
    expect(r.content.length).toBe(20_000)
    expect(r.text.slice(999, 1001)).toBe('ab')
    expect(sink.hits[0]!.bytesIn).toBe(20_000)
  })

  it('does not throw on a 500, and raiseForStatus throws an HTTPError', async () => {
    const srv = await server((_req, res) => {
      res.statusCode = 500
      res.end('boom')
    })
    const { s, sink } = session(srv.origin)
    const r = await s.get('/fail')
    expect(r.status).toBe(500)
    expect(r.ok).toBe(false)
    expect(r.reason).toBe('Internal Server Error')
    expect(() => r.raiseForStatus()).toThrow(HTTPError)
    try {
      r.raiseForStatus()
    } catch (err) {
      expect(err).toMatchObject({ status: 500, reason: 'Internal Server Error', url: `${srv.origin}/fail`, code: 'LOADS_ERR_HTTP_STATUS' })
    }
    expect(sink.hits).toMatchObject([{ status: 500, errorKind: null }])
    expect(srv.requests.length).toBe(1)
  })
})

describe('cookies', () => {
  it('sends back what the server set, and two sessions never share cookies', async () => {
    const srv = await server((req, res) => {
      if (req.url === '/login') res.setHeader('Set-Cookie', ['sid=abc; Path=/; HttpOnly', 'theme=dark'])
      res.end(req.headers.cookie ?? '')
    })
    const one = session(srv.origin).s
    const two = session(srv.origin).s
    await one.get('/login')
    const seen = await one.get('/me')
    const other = await two.get('/me')
    expect(seen.text).toBe('sid=abc; theme=dark')
    expect(other.text).toBe('')
    expect(srv.requests[0]!.headers.cookie).toBeUndefined()
    expect(srv.requests[2]!.headers.cookie).toBeUndefined()
    expect(one.cookies.get(srv.origin)).toBe('sid=abc; theme=dark')
    expect(one.cookies.list().map((c) => [c.name, c.value, c.httpOnly])).toEqual([
      ['sid', 'abc', true],
      ['theme', 'dark', false],
    ])
    expect(two.cookies.list()).toEqual([])
  })

  it('lets a test set and clear cookies, keeping an explicit Cookie header first', async () => {
    const srv = await server()
    const { s } = session(srv.origin)
    s.cookies.set('token=t1', srv.origin)
    await s.get('/a')
    await s.get('/b', { headers: { Cookie: 'mine=1' } })
    s.cookies.clear()
    await s.get('/c')
    expect(srv.requests.map((r) => r.headers.cookie)).toEqual(['token=t1', 'mine=1; token=t1', undefined])
  })
})

describe('redirects', () => {
  function redirector(): Handler {
    return (req, res) => {
      const match = /^\/r(\d{3})$/.exec(req.url)
      if (match !== null) {
        res.statusCode = Number(match[1])
        res.setHeader('Location', '/target')
        res.end()
        return
      }
      res.end(`${req.method} ${req.body.toString()}`)
    }
  }

  it('turns POST into a bodiless GET on 301, 302 and 303', async () => {
    const srv = await server(redirector())
    const { s, sink } = session(srv.origin)
    for (const code of [301, 302, 303]) {
      const r = await s.post(`/r${code}`, { data: 'payload' })
      expect(r.text).toBe('GET ')
      expect(r.history.map((h) => h.status)).toEqual([code])
      expect(r.history[0]!.url).toBe(`${srv.origin}/r${code}`)
      expect(r.url).toBe(`${srv.origin}/target`)
    }
    const targets = srv.requests.filter((r) => r.url === '/target')
    expect(targets.map((r) => [r.method, r.headers['content-length']])).toEqual([
      ['GET', undefined],
      ['GET', undefined],
      ['GET', undefined],
    ])
    expect(sink.hits.map((h) => `${h.method} ${h.name} ${h.status} ${h.bytesOut}`)).toEqual([
      'POST /r301 301 7',
      'GET /target 200 0',
      'POST /r302 302 7',
      'GET /target 200 0',
      'POST /r303 303 7',
      'GET /target 200 0',
    ])
    expect(sink.hits.length).toBe(srv.requests.length)
  })

  it('keeps method and body on 307 and 308', async () => {
    const srv = await server(redirector())
    const { s, sink } = session(srv.origin)
    expect((await s.post('/r307', { data: 'keep' })).text).toBe('POST keep')
    expect((await s.put('/r308', { body: 'me' })).text).toBe('PUT me')
    expect(sink.hits.map((h) => `${h.method} ${h.status}`)).toEqual(['POST 307', 'POST 200', 'PUT 308', 'PUT 200'])
    expect(srv.requests.length).toBe(4)
  })

  it('returns the redirect itself when allowRedirects is false', async () => {
    const srv = await server(redirector())
    const { s, sink } = session(srv.origin)
    const r = await s.get('/r302', { allowRedirects: false })
    expect(r.status).toBe(302)
    expect(r.headers.location).toBe('/target')
    expect(srv.requests.length).toBe(1)
    expect(sink.hits.length).toBe(1)
  })

  it('gives up after 30 redirects, having sent and recorded 31 requests', async () => {
    const srv = await server((req, res) => {
      const n = Number(req.url.slice(1))
      res.statusCode = 302
      res.setHeader('Location', `/${n + 1}`)
      res.end()
    })
    const { s, sink } = session(srv.origin)
    const err = await s.get('/0').catch((e: unknown) => e)
    expect(err).toBeInstanceOf(TooManyRedirectsError)
    expect(err).toMatchObject({ code: 'LOADS_ERR_TOO_MANY_REDIRECTS', redirects: 30, url: `${srv.origin}/30` })
    expect(srv.requests.length).toBe(31)
    expect(sink.hits.length).toBe(31)
  })

  it('stores a cookie set on a redirect hop and sends it to the next hop', async () => {
    const srv = await server((req, res) => {
      if (req.url === '/login') {
        res.statusCode = 302
        res.setHeader('Set-Cookie', 'sid=hop; Path=/')
        res.setHeader('Location', '/home')
        res.end()
        return
      }
      res.end(req.headers.cookie ?? 'none')
    })
    const { s, sink } = session(srv.origin)
    const r = await s.post('/login', { data: { user: 'a' } })
    expect(r.text).toBe('sid=hop')
    expect(r.history[0]!.request.headers.cookie).toBeUndefined()
    expect(r.request.headers.cookie).toBe('sid=hop')
    expect(sink.hits.map((h) => h.name)).toEqual(['/login', '/home'])
  })

  it('drops basic auth when redirected to another origin', async () => {
    const other = await server((req, res) => res.end(req.headers.authorization ?? 'no auth'))
    const srv = await server((_req, res) => {
      res.statusCode = 302
      res.setHeader('Location', `${other.origin}/elsewhere`)
      res.end()
    })
    const { s } = session(srv.origin)
    const r = await s.get('/go', { auth: ['u', 'p'] })
    expect(r.text).toBe('no auth')
    expect(srv.requests[0]!.headers.authorization).toBeDefined()
  })
})

describe('connections', () => {
  it('keeps one connection per user per origin and counts the connect on the first hit only', async () => {
    const srv = await server()
    const { s, sink } = session(srv.origin)
    for (let i = 0; i < 20; i++) await s.get('/k')
    expect(srv.requests.length).toBe(20)
    expect(srv.connections).toBe(1)
    expect(sink.hits.length).toBe(20)
    expect(sink.hits[0]!.connectUs).toBeGreaterThan(0)
    expect(sink.hits.slice(1).every((h) => h.connectUs === 0)).toBe(true)
  })

  it('gives each session its own connection, and queues concurrent requests of one user on it', async () => {
    const srv = await server()
    const a = session(srv.origin)
    const b = session(srv.origin)
    await Promise.all([a.s.get('/1'), a.s.get('/2'), a.s.get('/3'), b.s.get('/4')])
    expect(srv.requests.length).toBe(4)
    expect(srv.connections).toBe(2)
    expect(a.sink.hits.filter((h) => h.connectUs > 0).length).toBe(1)
  })

  it("times each response when it is read, not after other users' code has run", async () => {
    // The server answers both requests in one tick, so both responses are waiting to be read
    // when the loop next polls. The code after each `await` blocks the thread for 400 ms: had
    // the first response's code run before the second response was read, the second hit would
    // have been recorded at least 400 ms late (the bound: a loaded machine's delays stay below it).
    const waiting: Array<() => void> = []
    const srv = await server((_req, res) => {
      waiting.push(() => res.end('ok'))
      if (waiting.length === 2) for (const answer of waiting.splice(0)) answer()
    })
    const users = [session(srv.origin), session(srv.origin)]
    const blockMs = 400
    await Promise.all(
      users.map(async ({ s }) => {
        await s.get('/together')
        const until = performance.now() + blockMs
        while (performance.now() < until) {
          // another user's code, holding the thread
        }
      }),
    )
    expect(srv.requests.length).toBe(2)
    const latencies = users.map(({ sink }) => sink.hits.map((h) => h.totalUs)).flat()
    expect(latencies.length).toBe(2)
    for (const us of latencies) expect(us).toBeLessThan(blockMs * 1000)
  })

  it("times a response when it is read, not after another user's code handling a failure", async () => {
    // The failure comes first (the server resets one connection, then answers the other in the
    // same tick), and the code catching it holds the thread for 400 ms: timed after it, the hit
    // would be at least 400 ms long.
    const waiting = new Map<string, ServerResponse>()
    const srv = await server((req, res) => {
      waiting.set(req.url, res)
      if (waiting.size < 2) return
      waiting.get('/fail')!.socket!.destroy()
      waiting.get('/ok')!.end('ok')
    })
    const failing = session(srv.origin)
    const answered = session(srv.origin)
    const blockMs = 400
    const hold = () => {
      const until = performance.now() + blockMs
      while (performance.now() < until) {
        // the failing user's error handling, holding the thread
      }
    }
    await Promise.all([failing.s.get('/fail').then(hold, hold), answered.s.get('/ok')])
    expect(srv.requests.length).toBe(2)
    expect(failing.sink.hits.map((h) => h.errorKind)).toEqual(['ECONNRESET'])
    expect(answered.sink.hits.map((h) => h.status)).toEqual([200])
    expect(answered.sink.hits[0]!.totalUs).toBeLessThan(blockMs * 1000)
  })

  it('reconnects after close(), measuring the new connect', async () => {
    const srv = await server()
    const { s, sink } = session(srv.origin)
    await s.get('/1')
    await s.close()
    await s.get('/2')
    expect(srv.connections).toBe(2)
    expect(sink.hits.map((h) => h.connectUs > 0)).toEqual([true, true])
  })
})

describe('network failures are recorded hits and NetworkErrors', () => {
  it('counts a refused connection as an error of kind ECONNREFUSED', async () => {
    const port = await closedPort()
    const { s, sink } = session()
    const err = await networkError(s.get(`http://127.0.0.1:${port}/x`))
    expect(err.kind).toBe('ECONNREFUSED')
    expect(err.code).toBe('LOADS_ERR_NETWORK')
    expect(err.message).toBe(`connection refused by 127.0.0.1:${port} (GET http://127.0.0.1:${port}/x)`)
    expect(sink.hits).toMatchObject([{ method: 'GET', name: '/x', status: 0, ttfbUs: 0, errorKind: 'ECONNREFUSED' }])
  })

  it('times out on a server that never answers', async () => {
    const silent = await startRawServer(() => {})
    cleanups.push(() => silent.close())
    const { s, sink } = session()
    const started = performance.now()
    const err = await networkError(s.get(`http://127.0.0.1:${silent.port}/slow`, { timeout: 200 }))
    const took = performance.now() - started
    expect(err.kind).toBe('TIMEOUT')
    expect(err.message).toContain('timed out after 200 ms')
    expect(took).toBeGreaterThanOrEqual(190)
    // Late only by a loaded machine's delays (timeout-precision.test.ts holds the ±50 ms); far
    // below the default timeout it replaces.
    expect(took).toBeLessThan(2000)
    expect(sink.hits).toMatchObject([{ status: 0, errorKind: 'TIMEOUT' }])
    expect(sink.hits[0]!.totalUs).toBeGreaterThanOrEqual(190_000)
  })

  it('times out between body chunks, and the next request reconnects', async () => {
    const srv = await server((req, res) => {
      if (req.url === '/stall') res.write('partial')
      else res.end('fine')
    })
    const { s, sink } = session(srv.origin)
    const err = await networkError(s.get('/stall', { timeout: 150 }))
    expect(err.kind).toBe('TIMEOUT')
    expect(err.message).toContain('the response body from')
    expect((await s.get('/next')).text).toBe('fine')
    expect(sink.hits.map((h) => [h.status, h.bytesIn, h.errorKind])).toEqual([
      [0, 7, 'TIMEOUT'],
      [200, 4, null],
    ])
    expect(srv.connections).toBe(2)
  })

  it('counts a connection the server destroys as ECONNRESET', async () => {
    const rude = await startRawServer((socket) => socket.once('data', () => socket.destroy()))
    cleanups.push(() => rude.close())
    const { s, sink } = session()
    const err = await networkError(s.get(`http://127.0.0.1:${rude.port}/`))
    expect(err.kind).toBe('ECONNRESET')
    expect(sink.hits).toMatchObject([{ status: 0, errorKind: 'ECONNRESET' }])
  })

  it('counts a malformed response as PROTOCOL', async () => {
    const garbage = await startRawServer((socket) => socket.once('data', () => socket.end('NOT HTTP AT ALL\r\n\r\n')))
    cleanups.push(() => garbage.close())
    const { s, sink } = session()
    const err = await networkError(s.get(`http://127.0.0.1:${garbage.port}/`))
    expect(err.kind).toBe('PROTOCOL')
    expect(sink.hits).toMatchObject([{ status: 0, errorKind: 'PROTOCOL' }])
  })

  it('counts a host that does not resolve as ENOTFOUND', async () => {
    const { s, sink } = session()
    const err = await networkError(s.get('http://no-such-host.invalid/x'))
    expect(err.kind).toBe('ENOTFOUND')
    expect(err.message).toContain('no-such-host.invalid')
    expect(sink.hits).toMatchObject([{ status: 0, errorKind: 'ENOTFOUND' }])
  })

  it('aborts in-flight requests, records them as ABORTED, and stays usable', async () => {
    let answerLater = true
    const srv = await server((_req, res) => {
      if (answerLater) setTimeout(() => res.end('late'), 5_000).unref()
      else res.end('now')
    })
    const { s, sink } = session(srv.origin)
    const inFlight = s.get('/hang')
    const queued = s.get('/queued')
    while (srv.requests.length === 0) await new Promise((resolve) => setTimeout(resolve, 5))
    s.abort()
    const [a, b] = await Promise.all([networkError(inFlight), networkError(queued)])
    expect([a.kind, b.kind]).toEqual(['ABORTED', 'ABORTED'])
    // Only the request that went on the socket is a hit: the queued one never reached the
    // server, and hits must equal what the server received.
    expect(sink.hits.map((h) => [h.name, h.status, h.errorKind])).toEqual([['/hang', 0, 'ABORTED']])
    answerLater = false
    expect((await s.get('/again')).text).toBe('now')
    expect(srv.requests.length).toBe(2)
    expect(sink.hits.length).toBe(2)
  })
})

describe('URLs', () => {
  it('resolves relative URLs against baseUrl, and explains what to do without one', async () => {
    const srv = await server()
    const { s, sink } = session(`${srv.origin}/api/`)
    await s.get('items')
    await s.get('/root')
    s.baseUrl = undefined
    await expect(s.get('/x')).rejects.toThrow(
      "relative URL '/x' needs a base: set static serverUrl on the TestCase or pass --server-url",
    )
    await expect(s.get('/x')).rejects.toBeInstanceOf(LoadsError)
    expect(srv.requests.map((r) => r.url)).toEqual(['/api/items', '/root'])
    expect(sink.hits.length).toBe(2)
  })

  it('uses credentials in the URL as basic auth', async () => {
    const srv = await server()
    const { s } = session()
    await s.get(`http://bob:pw@127.0.0.1:${srv.port}/secure`)
    expect(srv.requests[0]!.headers.authorization).toBe(`Basic ${Buffer.from('bob:pw').toString('base64')}`)
  })
})

describe('TLS', () => {
  const fixture = makeSelfSignedCert()

  async function tlsServer(): Promise<CountingServer> {
    const started = await startServer((_req, res) => res.end('secure'), fixture)
    cleanups.push(() => started.close())
    return started
  }

  it('rejects a self-signed certificate by default, as kind TLS', async () => {
    const srv = await tlsServer()
    const { s, sink } = session(srv.origin)
    const err = await networkError(s.get('/'))
    expect(err.kind).toBe('TLS')
    expect(err.hint).toContain('insecure')
    expect(sink.hits).toMatchObject([{ status: 0, errorKind: 'TLS' }])
    expect(srv.requests.length).toBe(0)
  })

  it('accepts it with insecure: true', async () => {
    const srv = await tlsServer()
    const { s, sink } = session(srv.origin, { insecure: true })
    expect((await s.get('/')).text).toBe('secure')
    expect((await s.get('/')).text).toBe('secure')
    expect(srv.connections).toBe(1)
    expect(sink.hits.map((h) => h.connectUs > 0)).toEqual([true, false])
  })

  it('accepts it when trusted through ca, by IP and by name', async () => {
    const srv = await tlsServer()
    const { s } = session(undefined, { ca: fixture.cert })
    expect((await s.get(`${srv.origin}/`)).text).toBe('secure')
    expect((await s.get(`https://localhost:${srv.port}/`)).text).toBe('secure')
    expect(srv.requests.length).toBe(2)
  })
})
