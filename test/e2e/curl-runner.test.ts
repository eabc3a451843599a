import { execFile, execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LOADS, LOADS_RUNNER, runBin, tempProject, testResult } from '../helpers/cli.js'
import { makeSelfSignedCert, startServer, type CountingServer } from '../helpers/http-servers.js'
import { tally } from '../helpers/request-fingerprint.js'

const run = promisify(execFile)
const CURL = (() => {
  try {
    execFileSync('curl', ['--version'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
})()

describe('loads-runner --curl: load-test a curl command, no file', () => {
  let http: CountingServer
  let https: CountingServer
  let dir: string
  let tmp: string
  beforeAll(async () => {
    http = await startServer((_req, res) => res.end('{"ok":true}'))
    https = await startServer((_req, res) => res.end('secure'), makeSelfSignedCert())
    dir = tempProject({ 'body.json': '{"from":"a file"}' })
    tmp = path.join(dir, 'tmp')
    mkdirSync(tmp)
  })
  afterAll(async () => {
    await http.close()
    await https.close()
  })

  it('sends 6 times what curl sends with -u 2 -c 3, and leaves no temporary module behind', async () => {
    const command = `curl -X PUT -b 'sid=abc; theme=dark' -H 'X-Token: t0k' --data-binary @body.json -H 'Content-Type: application/json' '${http.origin}/api/things/1?dry=0'`
    let fromCurl = [] as typeof http.requests
    if (CURL) {
      await run('bash', ['-c', command], { cwd: dir, timeout: 20_000 })
      fromCurl = http.requests.splice(0)
    }
    const r = await runBin(LOADS_RUNNER, ['--curl', command, '-u', '2', '-c', '3'], { cwd: dir, env: { TMPDIR: tmp } })
    expect(r.code, r.stdout + r.stderr).toBe(0)
    expect(testResult(r.stdout)).toEqual({ run: 6, errors: 0, failures: 0 })
    expect(http.requests.length).toBe(6)
    for (const req of http.requests) {
      expect(`${req.method} ${req.url}`).toBe('PUT /api/things/1?dry=0')
      expect(req.headers.cookie).toBe('sid=abc; theme=dark')
      expect(req.body.toString()).toBe('{"from":"a file"}')
    }
    if (CURL) expect(tally(http.requests)).toEqual(tally(fromCurl, 6))
    expect(readdirSync(tmp).filter((name) => name.startsWith('loads-curl-'))).toEqual([])
    http.requests.length = 0
  })

  it('honours curl -k (static insecure = true) against a self-signed certificate', async () => {
    const r = await runBin(LOADS_RUNNER, ['--curl', `curl -k ${https.origin}/s`, '-u', '2', '-c', '3'], { cwd: dir })
    expect(r.code, r.stdout + r.stderr).toBe(0)
    expect(testResult(r.stdout)).toEqual({ run: 6, errors: 0, failures: 0 })
    expect(https.requests.length).toBe(6)
    https.requests.length = 0
  })

  it('without -k the same certificate fails every run (so -k is what made the difference)', async () => {
    const r = await runBin(LOADS_RUNNER, ['--curl', `curl ${https.origin}/s`, '-u', '1', '-c', '2'], { cwd: dir })
    expect(r.code).toBe(1)
    expect(testResult(r.stdout)).toEqual({ run: 2, errors: 2, failures: 0 })
    expect(https.requests.length).toBe(0)
  })

  it("maps curl's --resolve (like --http2, --cert, --key, --cacert) onto the runner's own flag, and loads curl prints it", async () => {
    const port = new URL(http.origin).port
    const command = `curl --resolve shop.test:${port}:127.0.0.1 http://shop.test:${port}/resolved`
    const r = await runBin(LOADS_RUNNER, ['--curl', command, '-c', '2'], { cwd: dir })
    expect(r.code, r.stdout + r.stderr).toBe(0)
    expect(http.requests.map((req) => `${req.url} ${req.headers.host}`)).toEqual([`/resolved shop.test:${port}`, `/resolved shop.test:${port}`])
    http.requests.length = 0
    const written = await runBin(LOADS, ['curl', command, '-o', 'resolved.ts'], { cwd: dir })
    expect(written.stdout).toBe(`wrote resolved.ts (1 request); run it with:\n  loads-runner resolved.ts -u 10 -c 100 --resolve shop.test:${port}:127.0.0.1\n`)
    expect(readFileSync(path.join(dir, 'resolved.ts'), 'utf8')).toContain(`// --resolve shop.test:${port}:127.0.0.1: run with loads-runner --resolve`)
    expect(http.requests.length).toBe(0)
  })

  it('--server-url points the curl command elsewhere, cookies included', async () => {
    const r = await runBin(LOADS_RUNNER, ['--curl', "curl -b 'k=v' http://service.invalid:8080/moved", '--server-url', http.origin, '-c', '2'], { cwd: dir })
    expect(r.code, r.stdout + r.stderr).toBe(0)
    expect(http.requests.map((req) => `${req.url} ${req.headers.cookie}`)).toEqual(['/moved k=v', '/moved k=v'])
    http.requests.length = 0
  })
})

describe('bad curl input: a clear message, exit 2, nothing written, nothing sent', () => {
  let server: CountingServer
  let dir: string
  beforeAll(async () => {
    server = await startServer((_req, res) => res.end('ok'))
    dir = tempProject({})
  })
  afterAll(() => server.close())

  const cases = (url: string) => [
    { name: 'an unbalanced quote', command: `curl '${url}/x -H 'A: b'`, message: /error: unbalanced single quote opened at line 1, column \d+/ },
    { name: 'an unsupported option, named', command: `curl --proxy http://127.0.0.1:3128 ${url}/x`, message: /error: curl option --proxy is not supported/ },
    { name: 'a client key password, named', command: `curl --cert me.pem:s3cret ${url}/x`, message: /error: curl option --cert is not supported: a key password/ },
    { name: 'a header that would fail every run', command: `curl -H 'Expect: 100-continue' -d a=1 ${url}/x`, message: /Expect: 100-continue handshake/ },
    { name: 'text that is not curl', command: `wget ${url}/x`, message: /error: not a curl command/ },
    { name: 'a missing @file', command: `curl -d @nowhere.json ${url}/x`, message: /nowhere\.json/ },
  ]

  it.each(cases('{{URL}}'))('loads curl refuses $name', async ({ command, message }) => {
    const r = await runBin(LOADS, ['curl', command.replaceAll('{{URL}}', server.origin), '-o', 'out.ts'], { cwd: dir })
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(message)
    expect(r.stderr).not.toMatch(/\n\s+at /)
    expect(r.stdout).toBe('')
    expect(existsSync(path.join(dir, 'out.ts'))).toBe(false)
  })

  it.each(cases('{{URL}}'))('loads-runner --curl refuses $name before sending anything', async ({ command, message }) => {
    const r = await runBin(LOADS_RUNNER, ['--curl', command.replaceAll('{{URL}}', server.origin), '-u', '2', '-c', '3'], { cwd: dir })
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(message)
    expect(server.requests.length).toBe(0)
  })

  it('refuses -o to a file that is not TypeScript, a bad class name, and a test given with --curl', async () => {
    const url = `${server.origin}/x`
    const notTs = await runBin(LOADS, ['curl', `curl ${url}`, '-o', 'out.txt'], { cwd: dir })
    expect([notTs.code, notTs.stderr]).toEqual([2, "error: -o out.txt: the generated test is TypeScript; name it something.ts\n"])
    const badName = await runBin(LOADS, ['curl', `curl ${url}`, '--class-name', 'my test'], { cwd: dir })
    expect([badName.code, badName.stderr]).toEqual([2, 'error: --class-name "my test" is not a JavaScript identifier\n'])
    const both = await runBin(LOADS_RUNNER, ['some.Test', '--curl', `curl ${url}`], { cwd: dir })
    expect(both.code).toBe(2)
    expect(both.stderr).toContain('error: give a test or --curl, not both')
    const neither = await runBin(LOADS_RUNNER, [], { cwd: dir })
    expect(neither.code).toBe(2)
    expect(neither.stderr).toContain('error: no test given')
    expect(readdirSync(dir)).toEqual([])
    expect(server.requests.length).toBe(0)
  })
})
