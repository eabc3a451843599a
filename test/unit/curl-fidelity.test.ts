import { execFileSync } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { CurlParseError } from '../../src/shell/curl/curl-parse-error.js'
import { parseCurl, parseCurlCommands, type ParseCurlOptions } from '../../src/shell/curl/parse.js'
import type { RequestSpec } from '../../src/shell/request-spec.js'
import { tempProject } from '../helpers/cli.js'

/** What curl 7.88 does, checked on the wire by test/e2e/curl-commands.test.ts; here, what we read. */
const one = (command: string, options: ParseCurlOptions = {}): RequestSpec => {
  const requests = parseCurl(command, options)
  expect(requests).toHaveLength(1)
  return requests[0] as RequestSpec
}
const failure = (command: string, options: ParseCurlOptions = {}): CurlParseError => {
  try {
    parseCurl(command, options)
  } catch (error) {
    if (error instanceof CurlParseError) return error
    throw error
  }
  throw new Error(`parsed without error: ${command}`)
}

describe('curl fidelity: what curl sends, not what it seems to say', () => {
  it('-r 600 asks for bytes=600- (curl appends the dash), with a note', () => {
    const request = one('curl -r 600 http://h/f')
    expect(request.headers).toEqual({ Range: 'bytes=600-' })
    expect(request.notes).toEqual(['-r 600: a range needs a dash; curl appends one, so 600- is asked for'])
    expect(one('curl --range 0-99 http://h/f').headers).toEqual({ Range: 'bytes=0-99' })
  })

  it("-b is sent as written, in one Cookie header: 'a=b; c' keeps c, several -b are joined with '; '", () => {
    expect(one("curl -b 'a=b; c' http://h/").headers).toEqual({ Cookie: 'a=b; c' })
    expect(one("curl -b a=1 --cookie 'b=2' http://h/").headers).toEqual({ Cookie: 'a=1; b=2' })
  })

  it('-H Cookie wins over -b: curl then sends only the header (said in a note)', () => {
    const request = one("curl -H 'Cookie: x=1' -b 'a=b' http://h/")
    expect(request.headers).toEqual({ Cookie: 'x=1' })
    expect(request.notes).toEqual(['-b cookies not sent: a -H Cookie header is given, and curl then sends only that header'])
  })

  it('a -b cookie stays in its operation: the request after --next sends none', () => {
    const [first, second] = parseCurl("curl -b 'a=b' http://h/1 --next http://h/2")
    expect(first?.headers).toEqual({ Cookie: 'a=b' })
    expect(second?.headers).toEqual({})
    expect(second?.cookies).toBeUndefined()
  })

  it('user:pass@ in the URL becomes basic auth, so the URL can follow --server-url; -u wins over it', () => {
    const request = one('curl http://al%40ice:p%3Ass@h:8080/x?q=1')
    expect([request.url, request.auth]).toEqual(['http://h:8080/x?q=1', ['al@ice', 'p:ss']])
    expect(one('curl -u a:b http://c:d@h/x').auth).toEqual(['a', 'b'])
  })

  it('refuses at import what would fail every run: a CRLF in -H, a bad header name, -X with a space, Expect: 100-continue', () => {
    expect(failure(String.raw`curl -H $'X-A: 1\r\nX-B: 2' http://h/`).message).toContain('holds a line break or NUL')
    expect(failure("curl -H 'Bad Name: 1' http://h/").message).toContain('"Bad Name" is not a valid header name')
    const method = failure("curl -X 'GET /admin' http://h/")
    expect([method.option, method.message]).toEqual(['-X', expect.stringContaining('"GET /admin" is not an HTTP method')])
    const expect100 = failure("curl -H 'Expect: 100-continue' -d a=1 http://h/")
    expect(expect100.message).toContain('does not do the Expect: 100-continue handshake')
    // Removing curl's own Expect is fine: the session never adds one.
    expect(one("curl -H 'Expect:' -d a=1 http://h/").headers).toEqual({ 'Content-Type': 'application/x-www-form-urlencoded' })
  })

  it("asks the session to leave out what curl would not send: content-length on a bodiless POST, defaults removed with -H 'Name:'", () => {
    expect(one('curl -X POST http://h/trigger').unsetHeaders).toEqual(['content-length'])
    expect(one("curl -d '' http://h/empty").unsetHeaders).toBeUndefined()
    expect(one("curl -H 'Accept:' -H 'User-Agent:' -H 'X-Gone:' http://h/").unsetHeaders).toEqual(['accept', 'user-agent'])
    expect(one('curl -X DELETE http://h/x').unsetHeaders).toBeUndefined()
  })

  it('--path-as-is: a path with . or .. segments is sent as written (pathAsIs); without, nothing differs', () => {
    expect(one('curl --path-as-is http://h/a/b')).not.toHaveProperty('pathAsIs')
    const traversal = one('curl --path-as-is http://h/a/../etc/./passwd')
    expect([traversal.url, traversal.pathAsIs]).toEqual(['http://h/a/../etc/./passwd', true])
    expect(one('curl http://h/a/../b')).not.toHaveProperty('pathAsIs')
  })
})

describe('curl -T, option prefixes, standard input, variables, run flags', () => {
  it('-T file is a PUT of the file, to dir/file when the URL ends with a slash; -X changes the method', () => {
    const dir = tempProject({ 'up.txt': 'line 1\r\nline 2\n' })
    const put = one('curl -T up.txt http://h/files/', { cwd: dir })
    expect([put.method, put.url, put.headers, put.body]).toEqual(['PUT', 'http://h/files/up.txt', {}, { kind: 'text', text: 'line 1\r\nline 2\n' }])
    expect(put.notes).toEqual(['-T: read "up.txt" (15 bytes) at import; its content is embedded in the test'])
    expect(one('curl -X POST --upload-file up.txt http://h/in', { cwd: dir }).method).toBe('POST')
    expect(failure('curl -T up.txt -d a=1 http://h/', { cwd: dir }).message).toContain('-T (upload a file) cannot be mixed')
  })

  it('resolves a unique prefix of a long option as curl does, and refuses an ambiguous one by naming the candidates', () => {
    const request = one("curl --sil --data-ra 'x=1' --user-a Bot/1 http://h/")
    expect([request.body, request.headers['User-Agent']]).toEqual([{ kind: 'form', fields: { x: '1' } }, 'Bot/1'])
    expect(request.notes).toEqual([
      "--sil is curl's abbreviation of --silent",
      "--data-ra is curl's abbreviation of --data-raw",
      "--user-a is curl's abbreviation of --user-agent",
    ])
    expect(failure('curl --requ PUT http://h/').message).toContain('it could be --request, --request-target')
    expect(failure('curl --compr http://h/').message).toBe(
      'curl option --compr is ambiguous: it could be --compressed, --compressed-ssh (curl refuses it too)',
    )
    expect(failure('curl --dat x http://h/').message).toContain('--data, --data-ascii, --data-binary, --data-raw, --data-urlencode')
    // curl 7.88 takes --no- only before a whole name.
    expect(failure('curl --no-sil http://h/').message).toBe('unknown curl option --no-sil: curl does not know it either')
  })

  it("reads standard input at import from echo, printf, cat and < file for -d @- (and says so)", () => {
    const dir = tempProject({ 'body.json': '{"b":2}\n' })
    const echoed = one(`echo '{"name":"x"}' | curl -H 'Content-Type: application/json' -d @- http://h/items`)
    expect(echoed.body).toEqual({ kind: 'json', value: { name: 'x' } })
    expect(echoed.notes).toEqual(['-d @-: standard input (echo, 13 bytes) read at import and embedded in the test'])
    expect(one(`echo -n 'a=1' | curl --data-binary @- http://h/`).body).toEqual({ kind: 'form', fields: { a: '1' } })
    expect(one(String.raw`printf '%s\n' 'k=v' | curl --data-binary @- http://h/`).body).toEqual({ kind: 'text', text: 'k=v\n' })
    expect(one('cat body.json | curl --data-binary @- http://h/', { cwd: dir }).body).toEqual({ kind: 'text', text: '{"b":2}\n' })
    expect(one('curl --data-binary @- http://h/ < body.json', { cwd: dir }).body).toEqual({ kind: 'text', text: '{"b":2}\n' })
    expect(failure('curl -d @- http://h/').message).toContain('the command does not say what it is')
    expect(failure("curl -d @- http://h/ <<EOF\n{}\nEOF").message).toContain('here-document')
    // The pipe after curl is still ignored (what curl prints goes there).
    expect(one("echo a=1 | curl -d @- http://h/ | jq .").body).toEqual({ kind: 'form', fields: { a: '1' } })
  })

  it('expands $VARIABLES from the environment and from earlier assignments, noting each (not its value)', () => {
    const warnings: string[] = []
    const requests = parseCurl('export BASE=http://h:1\nTOKEN_TYPE=Bearer\ncurl -H "Authorization: $TOKEN_TYPE ${TOKEN}" "$BASE/me"', {
      env: { TOKEN: 's3cr3t', BASE: 'http://ignored' },
      onWarning: (message) => warnings.push(message),
    })
    expect(requests.map((r) => [r.url, r.headers])).toEqual([['http://h:1/me', { Authorization: 'Bearer s3cr3t' }]])
    expect(requests[0]?.notes).toEqual([
      '$TOKEN_TYPE expanded at import; its value is written into the test',
      '$TOKEN expanded at import from the environment; its value is written into the test',
      '$BASE expanded at import; its value is written into the test',
    ])
    expect(warnings.join('\n')).not.toContain('s3cr3t')
  })

  it('maps --http2, --http2-prior-knowledge, --cert, --key, --cacert and --resolve onto the runner flags', () => {
    const parsed = parseCurlCommands(
      'curl --http2 -E me.pem --key me.key --cacert ca.pem --cert-type PEM --resolve h:443:127.0.0.1 https://h/ --next --http2-prior-knowledge http://h/',
    )
    expect(parsed.runFlags).toEqual({ http2: true, h2c: true, cert: 'me.pem', key: 'me.key', cacert: 'ca.pem', resolve: ['h:443:127.0.0.1'] })
    // curl reads the key from the certificate's file when --key is absent.
    expect(parseCurlCommands('curl --cert both.pem https://h/').runFlags).toEqual({ cert: 'both.pem', key: 'both.pem' })
    expect(failure('curl --cert-type DER --cert c.der https://h/').message).toContain('PEM files only')
    expect(failure("curl --resolve '+h:443:1.2.3.4' https://h/").message).toContain('only host:port:address')
  })
})

describe('local files named by a pasted command', () => {
  it('refuses a FIFO, a device, /proc, a directory and a file over the size limit, naming the option and file', () => {
    const dir = tempProject({ 'big.bin': 'x'.repeat(11), 'ok.txt': 'fine' })
    execFileSync('mkfifo', [path.join(dir, 'pipe')])
    mkdirSync(path.join(dir, 'sub'))
    const options = { cwd: dir, maxFileBytes: 10 }
    expect(failure('curl -d @pipe http://h/', options).message).toBe('curl option -d names "pipe": a FIFO (named pipe), not an ordinary file; refused')
    expect(failure('curl --data-binary @/dev/zero http://h/', options).message).toContain('/dev/zero is system state')
    expect(failure('curl -H @/proc/self/environ http://h/', options).message).toMatch(/^curl option -H names "\/proc\/self\/environ": \/proc\/\d+\/environ is system state/)
    expect(failure('curl -F f=@sub http://h/', options).message).toContain('a directory, not an ordinary file')
    expect(failure('curl -T big.bin http://h/', options).message).toBe('curl option -T names "big.bin": 11 bytes, over the import limit of 10 bytes; refused')
    // A symbolic link is judged by what it points to.
    execFileSync('ln', ['-s', '/proc/self/environ', path.join(dir, 'env-link')])
    expect(failure('curl -d @env-link http://h/', options).message).toMatch(/\/proc\/\d+\/environ is system state/)
    expect(one('curl -d @ok.txt http://h/', options).notes).toEqual(['-d: read "ok.txt" (4 bytes) at import; its content is embedded in the test'])
  })

  it('names every file read in a warning, once per read', () => {
    const dir = tempProject({ 'h.txt': 'X-A: 1\nX-B: 2\n', 'f.txt': 'v', 'n.txt': 'z' })
    const warnings: string[] = []
    parseCurl("curl -H @h.txt -F 'a=<f.txt' http://h/ --next --data-urlencode 'n@n.txt' http://h/2", { cwd: dir, onWarning: (m) => warnings.push(m) })
    expect(warnings.filter((m) => m.includes('at import'))).toEqual([
      '-H: read "h.txt" (14 bytes) at import; its content is embedded in the test',
      '-F: read "f.txt" (1 bytes) at import; its content is embedded in the test',
      '--data-urlencode: read "n.txt" (1 bytes) at import; its content is embedded in the test',
    ])
  })

  it('is linear in the size of the command: 40,000 -H parse in well under the 100 s a quadratic parser takes', () => {
    const n = 40_000
    const text = `curl http://h/ ${Array.from({ length: n }, (_, i) => `-H 'X-H${i}: v'`).join(' ')} -d a=1`
    // CPU time, not wall time: on a loaded machine the wait for a core is not the parser's.
    const start = process.cpuUsage()
    const [request] = parseCurl(text)
    const used = process.cpuUsage(start)
    expect(Object.keys(request?.headers ?? {})).toHaveLength(n + 1)
    // Before the fix 10,000 -H took 6.8 s, so 40,000 would take ~110 s; linear code takes ~0.1 s.
    // No ratio between two sizes: a GC pause in one of two short runs made a CI run read 70x
    // where the bound was 48x, so the bound is one absolute figure with 10x margin either way.
    expect((used.user + used.system) / 1000).toBeLessThan(10_000)
  })
})

