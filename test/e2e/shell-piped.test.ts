import { readFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LOADS, LOADS_RUNNER, runBin, tempProject, testResult } from '../helpers/cli.js'
import { closedPort, startServer, type CountingServer } from '../helpers/http-servers.js'
import { runPiped } from '../helpers/piped.js'
import { tally } from '../helpers/request-fingerprint.js'
import { apiHandler } from '../helpers/shell-api.js'

describe('loads shell with piped stdin', () => {
  let server: CountingServer
  let dir: string
  let closed: number
  beforeAll(async () => {
    server = await startServer(apiHandler)
    dir = tempProject({})
    closed = await closedPort()
  })
  afterAll(() => server.close())

  it('runs short commands and JavaScript in order, then .save and .run replay exactly what was done', async () => {
    const script = [
      'get /hello',
      'get /redirect',
      'post /items {"name":"widget","n":2}',
      'headers X-Token abc',
      'headers',
      'post /login user=ann&pw=x',
      'cookies',
      "const r = await session.get('/search', { params: { q: 'a b' } })",
      'r.json().url',
      'get /missing',
      "put /items/1 {id: 1, tags: ['x']}",
      'delete /items/1',
      '.headers on',
      'head /hello',
      '.headers off',
      'get /big',
      `get http://127.0.0.1:${closed}/down`,
      '.history',
      '.forget 11',
      '.save replay.ts',
      '.run -u 2 -c 3',
      '.exit',
      'get /never-sent-after-exit',
    ].join('\n')
    const r = await runPiped(LOADS, ['shell', '--server-url', server.origin], script, { cwd: dir, env: { LOADS_HISTORY: '' } })
    const out = r.stdout
    expect(r.code, out + r.stderr).toBe(0)

    // Each response: status, timing, size, method and URL; JSON bodies indented.
    expect(out).toMatch(/200 OK {2}[\d.]+ ms · \d+ B · GET http:\/\/127\.0\.0\.1:\d+\/hello\n\n\{\n {2}"method": "GET",\n {2}"url": "\/hello",/)
    expect(out).toContain('302 Found → /hello')
    expect(out).toMatch(/201 Created .* POST .*\/items\n\n\{\n {2}"method": "POST",\n {2}"url": "\/items",\n {2}"body": "\{\\"name\\":\\"widget\\",\\"n\\":2\}"/)
    // headers: set, then shown among the session's defaults.
    expect(out).toContain('x-token: abc\nloads> user-agent: loads-runner/0.1\naccept: */*\nx-token: abc\n')
    expect(out).toMatch(/"body": "user=ann&pw=x",\n {2}"token": "abc"/)
    expect(out).toContain('sid=s1  127.0.0.1/ httpOnly')
    expect(out).toContain("'/search?q=a+b'")
    expect(out).toContain('404 Not Found')
    expect(out).toContain('"body": "{\\"id\\":1,\\"tags\\":[\\"x\\"]}"')
    expect(out).toMatch(/200 OK .* DELETE .*\/items\/1/)
    // .headers on shows them for the HEAD, and no body.
    expect(out).toMatch(/response headers: shown\nloads> 200 OK .* HEAD .*\/hello\ncontent-type: application\/json\n/)
    // A long body is cut, with a note.
    expect(out).toMatch(/… \d+ more lines not shown \(\d+ bytes in all\): last\.text has the whole body/)
    expect(out).toContain(`error: connection refused by 127.0.0.1:${closed}`)
    expect(out).toContain(' 11  GET http://127.0.0.1:')
    expect(out).toContain('forgot GET http://127.0.0.1:')
    expect(out).toContain('saved 10 requests (10 status assertions) to replay.ts; run it with:\n  loads-runner replay.ts -u 10 -c 100')
    expect(out).toContain('<TestResult run=6 errors=0 failures=0>')
    expect(out).toContain('.run: exit code 0 (every run passed)')

    // The shell sent 11 requests (10 + the redirect hop); .run replayed them 6 times: the same
    // requests, except that a user's 2nd and 3rd runs send the cookie its 1st run got.
    const shell = server.requests.slice(0, 11)
    expect(shell.map((q) => `${q.method} ${q.url}`)).toEqual([
      'GET /hello', 'GET /redirect', 'GET /hello', 'POST /items', 'POST /login', 'GET /search?q=a+b',
      'GET /missing', 'PUT /items/1', 'DELETE /items/1', 'HEAD /hello', 'GET /big',
    ])
    expect(server.requests.length).toBe(11 * 7)
    expect(tally(server.requests.slice(11), 1, ['cookie'])).toEqual(tally(shell, 6, ['cookie']))

    // The saved file asserts the statuses seen, and replays the same again from loads-runner.
    const saved = readFileSync(path.join(dir, 'replay.ts'), 'utf8')
    expect(saved.match(/this\.assertEqual\(res\d+\.status, (\d+)\)/g)?.map((line) => line.replace(/res\d+/, 'res'))).toEqual(
      [200, 200, 201, 200, 200, 404, 200, 200, 200, 200].map((status) => `this.assertEqual(res.status, ${status})`),
    )
    const before = server.requests.length
    const replay = await runBin(LOADS_RUNNER, ['replay.ts', '-u', '2', '-c', '3'], { cwd: dir })
    expect(replay.code, replay.stdout + replay.stderr).toBe(0)
    expect(testResult(replay.stdout)).toEqual({ run: 6, errors: 0, failures: 0 })
    expect(server.requests.length - before).toBe(66)
    expect(tally(server.requests.slice(before), 1, ['cookie'])).toEqual(tally(shell, 6, ['cookie']))
    // Six users running once each start with empty jars, as the shell did: byte for byte the same.
    const fresh = server.requests.length
    const once = await runBin(LOADS_RUNNER, ['replay.ts', '-u', '6', '-c', '1'], { cwd: dir })
    expect(testResult(once.stdout)).toEqual({ run: 6, errors: 0, failures: 0 })
    expect(tally(server.requests.slice(fresh))).toEqual(tally(shell, 6))
  })

  it('says what is wrong with .save, .run and cluster commands without a broker, and goes on', async () => {
    const before = server.requests.length
    const script = ['.save nothing.ts', '.run', 'get /hello', '.save notes.txt', '.run -u x -z', '.agents', '.stop abc', 'nope(', ')', 'get /hello', '.exit'].join('\n')
    const r = await runPiped(LOADS, ['shell', '--server-url', server.origin], script, { cwd: dir, env: { LOADS_HISTORY: '' } })
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('nothing to save yet: make some requests first')
    expect(r.stdout).toContain('nothing to run yet: make some requests first')
    expect(r.stdout).toContain('error: .save notes.txt: the test is TypeScript; name it something.ts')
    expect(r.stdout).toMatch(/error: \.run: (unknown option '-z'|.*'x')/)
    expect(r.stdout).toContain('error: no broker: start the shell with --broker URL')
    expect(r.stdout).toContain('Uncaught ReferenceError: nope is not defined')
    expect(server.requests.length - before).toBe(2)
  })
})
