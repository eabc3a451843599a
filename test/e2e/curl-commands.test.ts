import { execFile, execFileSync } from 'node:child_process'
import { cpSync, mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import zlib from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseCurl } from '../../src/shell/curl/parse.js'
import { LOADS, LOADS_RUNNER, ROOT, runBin, testResult } from '../helpers/cli.js'
import { makeSelfSignedCert, startServer, type CountingServer, type Handler, type ReceivedRequest, type TlsFixture } from '../helpers/http-servers.js'
import { tally } from '../helpers/request-fingerprint.js'

const run = promisify(execFile)

/** Whether the real curl is here to say what each command sends. */
const CURL = (() => {
  try {
    execFileSync('curl', ['--version'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
})()

/**
 * Real-world commands, as browsers' "Copy as cURL" and API docs write them, covering every option
 * the importer reproduces. `{{URL}}` becomes the test server's origin; files are test/fixtures/curl.
 * `perRun` is how many requests one run makes (redirect hops and several URLs count).
 */
const CASES: { name: string; command: string; perRun: number; https?: boolean }[] = [
  {
    name: 'Chrome copy of an XHR GET: continuations, single quotes, -b cookies, --compressed',
    command: String.raw`curl '{{URL}}/api/cart?locale=en&ids=1,2' \
  -H 'accept: application/json, text/plain, */*' \
  -H 'accept-language: en-US,en;q=0.9' \
  -b 'sid=abc123; theme=dark' \
  -H 'referer: {{URL}}/cart' \
  -H 'sec-ch-ua: "Chromium";v="124", "Not-A.Brand";v="99"' \
  -H 'user-agent: Mozilla/5.0 (X11; Linux x86_64) Chrome/124.0.0.0' \
  --compressed`,
    perRun: 1,
  },
  {
    name: "Chrome copy of a JSON POST: --data-raw with $'…' quoting",
    command: String.raw`curl '{{URL}}/api/items' \
  -H 'content-type: application/json' \
  -H 'origin: {{URL}}' \
  --data-raw $'{"name":"it\'s","tags":["a","b"]}'`,
    perRun: 1,
  },
  {
    name: 'API docs: -X POST, double quotes with escapes, -H and -d',
    command: String.raw`curl -s -X POST "{{URL}}/v1/charges" -H "Authorization: Bearer sk_test_123" -H "Content-Type: application/json" -d "{\"amount\": 2000, \"currency\": \"usd\"}"`,
    perRun: 1,
  },
  {
    name: '--json and -u basic credentials',
    command: `curl --json '{"query":"{ viewer { login } }"}' -u 'alice:s3cr3t:x' {{URL}}/graphql`,
    perRun: 1,
  },
  {
    name: 'form fields: -d, --data, --data-urlencode (name=, =, name@file), --data-raw with a literal @',
    command: `curl -d 'a=1' --data 'b=two' --data-urlencode 'q=hello world & more' --data-urlencode '=pure&raw' --data-urlencode 'names@names.txt' --data-raw '@not-a-file' {{URL}}/form`,
    perRun: 1,
  },
  {
    name: '--data-binary @file keeps newlines, --data @file strips them, --next starts another request',
    command: `curl --data-binary @payload.json -H 'Content-Type: application/json' {{URL}}/upload --next --data @form.txt {{URL}}/form-file`,
    perRun: 2,
  },
  {
    name: 'multipart -F: a file upload, <file text with a type, --form-string',
    command: `curl -F 'title=Holiday' -F 'photo=@avatar.png' -F 'notes=<form.txt;type=text/plain' --form-string 'raw=@literal;x' {{URL}}/photos`,
    perRun: 1,
  },
  {
    name: '-G moves the data to the query; -A and -e',
    command: `curl -G -d 'q=load+testing' --data-urlencode 'tag=a&b' -A 'LoadsBot/1.0' -e '{{URL}}/from' '{{URL}}/search?page=2'`,
    perRun: 1,
  },
  {
    name: '-I sends a HEAD',
    command: `curl -I -H 'X-Probe: 1' {{URL}}/health`,
    perRun: 1,
  },
  {
    name: '-L follows a redirect (two requests per run)',
    command: `curl -L -H 'X-Follow: yes' '{{URL}}/redirect?from=a'`,
    perRun: 2,
  },
  {
    name: '-k against a self-signed certificate (static insecure = true)',
    command: `curl -k -H 'X-Secure: 1' {{URL}}/secure`,
    perRun: 1,
    https: true,
  },
  {
    name: 'several URLs share the options',
    command: `curl -H 'X-Multi: 1' {{URL}}/one '{{URL}}/two?x=1'`,
    perRun: 2,
  },
  {
    name: '-X PATCH with --cookie, --oauth2-bearer, -r, --url-query, -m',
    command: `curl -X PATCH --cookie 'k=v' --oauth2-bearer tok123 -r 0-99 --url-query 'x=a b' -m 5 -d 'n=1' {{URL}}/patch`,
    perRun: 1,
  },
  {
    name: '-X DELETE and -X PUT, backslash escapes outside quotes',
    command: String.raw`curl -X DELETE {{URL}}/items/7 -H "If-Match: \"abc\"" -H X-Escaped:\ yes\ \"q\" --next -X PUT -d 'v=2' {{URL}}/items/8`,
    perRun: 2,
  },
]

/** 302 for /redirect, gzip when asked for, JSON otherwise: what the commands expect of a server. */
const handler: Handler = (req, res) => {
  if (req.url.startsWith('/redirect')) {
    res.writeHead(302, { location: '/landed' })
    res.end()
    return
  }
  const body = Buffer.from(JSON.stringify({ ok: true, path: req.url }))
  if (/\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''))) {
    res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' })
    res.end(zlib.gzipSync(body))
  } else {
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(body)
  }
}

describe('loads curl: the generated test sends what curl sends', { timeout: 120_000 }, () => {
  let dir: string
  let tls: TlsFixture
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'loads-curl-e2e-'))
    cpSync(path.join(ROOT, 'test', 'fixtures', 'curl'), dir, { recursive: true })
    tls = makeSelfSignedCert()
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it.each(CASES.map((c, i) => ({ ...c, file: `case_${i}.ts` })))(
    '$name: -u 2 -c 3 makes the server receive 6 runs of exactly those requests',
    async ({ command: template, perRun, https, file }) => {
      const server: CountingServer = await startServer(handler, https === true ? tls : undefined)
      try {
        const command = template.replaceAll('{{URL}}', server.origin)

        let fromCurl: ReceivedRequest[] = []
        if (CURL) {
          await run('bash', ['-c', command], { cwd: dir, timeout: 20_000 })
          fromCurl = server.requests.splice(0)
          expect(fromCurl.length).toBe(perRun)
        }

        const generated = await runBin(LOADS, ['curl', command, '-o', file], { cwd: dir })
        expect(generated.code, generated.stderr).toBe(0)
        expect(generated.stdout).toContain(`wrote ${file}`)

        const result = await runBin(LOADS_RUNNER, [file, '-u', '2', '-c', '3'], { cwd: dir })
        expect(result.code, result.stdout + result.stderr).toBe(0)
        expect(testResult(result.stdout)).toEqual({ run: 6, errors: 0, failures: 0 })
        expect(server.requests.length).toBe(6 * perRun)

        // What the importer understood, sent 6 times (redirect hops are the server's doing).
        const sent = parseCurl(command, { cwd: dir }).map((spec) => `${spec.method} ${spec.url.slice(server.origin.length)}`)
        for (const line of sent) expect(server.requests.filter((r) => `${r.method} ${r.url}` === line).length).toBe(6)

        // And byte for byte (headers, body, cookies) what curl itself sent, 6 times over.
        if (CURL) expect(tally(server.requests)).toEqual(tally(fromCurl, 6))
      } finally {
        await server.close()
      }
    },
  )

})
