import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { NetworkError } from '../../src/http/errors.js'
import { ShellSession } from '../../src/shell/repl/shell-session.js'
import { closedPort, RecordingSink, startServer, type CountingServer } from '../helpers/http-servers.js'

describe('ShellSession writes down each request as it would be replayed', () => {
  let server: CountingServer
  beforeAll(async () => {
    server = await startServer((req, res) => {
      res.statusCode = req.url.startsWith('/gone') ? 410 : 200
      res.end('ok')
    })
  })
  afterAll(() => server.close())

  it('keeps URL and params, changed session headers, the body as sent, auth, and the status', async () => {
    const session = new ShellSession({ sink: new RecordingSink(), baseUrl: server.origin })
    session.headers['x-token'] = 'abc'
    session.headers['user-agent'] = 'loads-runner/0.1'
    await session.get('/items?a=1', { params: { b: 'x y' } })
    await session.post('/items', { json: { name: 'n' } })
    await session.put('/form', { data: { a: '1', b: '2' }, auth: ['u', 'p'] })
    await session.patch('/raw', { body: 'text', headers: { 'Content-Type': 'text/plain' }, timeout: 500, name: '/raw/{id}' })
    await session.request('PURGE', '/gone')
    await session.head('/')
    const refused = `http://127.0.0.1:${await closedPort()}/down`
    await expect(session.get(refused)).rejects.toBeInstanceOf(NetworkError)
    await session.close()

    const base = { insecure: false }
    expect(session.recorded).toEqual([
      { status: 200, spec: { ...base, method: 'GET', url: `${server.origin}/items?a=1&b=x+y`, headers: { 'x-token': 'abc' }, body: { kind: 'none' }, allowRedirects: true } },
      { status: 200, spec: { ...base, method: 'POST', url: `${server.origin}/items`, headers: { 'x-token': 'abc' }, body: { kind: 'json', value: { name: 'n' } }, allowRedirects: true } },
      { status: 200, spec: { ...base, method: 'PUT', url: `${server.origin}/form`, headers: { 'x-token': 'abc' }, body: { kind: 'form', fields: { a: '1', b: '2' } }, allowRedirects: true, auth: ['u', 'p'] } },
      { status: 200, spec: { ...base, method: 'PATCH', url: `${server.origin}/raw`, headers: { 'x-token': 'abc', 'Content-Type': 'text/plain' }, body: { kind: 'text', text: 'text' }, allowRedirects: true, timeoutMs: 500, name: '/raw/{id}' } },
      { status: 410, spec: { ...base, method: 'PURGE', url: `${server.origin}/gone`, headers: { 'x-token': 'abc' }, body: { kind: 'none' }, allowRedirects: true } },
      { status: 200, spec: { ...base, method: 'HEAD', url: `${server.origin}/`, headers: { 'x-token': 'abc' }, body: { kind: 'none' }, allowRedirects: false } },
      { status: undefined, spec: { ...base, method: 'GET', url: refused, headers: { 'x-token': 'abc' }, body: { kind: 'none' }, allowRedirects: true } },
    ])
    expect(server.requests.map((r) => `${r.method} ${r.url}`)).toEqual(['GET /items?a=1&b=x+y', 'POST /items', 'PUT /form', 'PATCH /raw', 'PURGE /gone', 'HEAD /'])
  })

  it('records nothing for a request the session refuses before sending', async () => {
    const session = new ShellSession({ sink: new RecordingSink() })
    await expect(session.get('/relative-without-base')).rejects.toThrow(/needs a base/)
    expect(session.recorded).toEqual([])
  })
})
