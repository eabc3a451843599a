import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { UsageError } from '../../src/errors.js'
import { CurlParseError } from '../../src/shell/curl/curl-parse-error.js'
import { parseCurl } from '../../src/shell/curl/parse.js'
import type { RequestSpec } from '../../src/shell/request-spec.js'

const FIXTURES = fileURLToPath(new URL('../fixtures/curl/', import.meta.url))
const parse = (command: string): RequestSpec[] => parseCurl(command, { cwd: FIXTURES })
const spec = (fields: Partial<RequestSpec> & { url: string }): RequestSpec => ({
  method: 'GET',
  headers: {},
  body: { kind: 'none' },
  allowRedirects: false,
  insecure: false,
  ...fields,
})
const BOUNDARY = '------------------------LoadsFormBoundary7MA4YWxkTrZu0gW'
const INSECURE_NOTE = '-k: TLS certificates are not verified (static insecure = true)'
const COMPRESSED_NOTE = '--compressed: asks for compressed responses; the session decodes them'
/** The remark every file read at import leaves (warning and comment in the test). */
const readNote = (flag: string, file: string): string =>
  `${flag}: read ${JSON.stringify(file)} (${readFileSync(`${FIXTURES}${file}`).length} bytes) at import; its content is embedded in the test`

interface Case {
  name: string
  command: string
  expected: RequestSpec[]
}

const cases: Case[] = [
  {
    name: 'a bare GET',
    command: 'curl https://example.com',
    expected: [spec({ url: 'https://example.com' })],
  },
  {
    name: 'a URL without a scheme, which curl takes as http',
    command: 'curl example.com/api',
    expected: [spec({ url: 'http://example.com/api' })],
  },
  {
    name: 'Chrome "Copy as cURL (bash)" of an XHR GET, with -b cookies',
    command: String.raw`curl 'https://shop.example.com/api/cart?locale=en' \
  -H 'accept: application/json, text/plain, */*' \
  -H 'accept-language: en-US,en;q=0.9' \
  -b 'sid=abc123; theme=dark' \
  -H 'priority: u=1, i' \
  -H 'referer: https://shop.example.com/cart' \
  -H 'sec-ch-ua: "Chromium";v="124", "Google Chrome";v="124", "Not-A.Brand";v="99"' \
  -H 'sec-ch-ua-mobile: ?0' \
  -H 'sec-fetch-mode: cors' \
  -H 'user-agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36'`,
    expected: [
      spec({
        url: 'https://shop.example.com/api/cart?locale=en',
        headers: {
          accept: 'application/json, text/plain, */*',
          'accept-language': 'en-US,en;q=0.9',
          priority: 'u=1, i',
          referer: 'https://shop.example.com/cart',
          'sec-ch-ua': '"Chromium";v="124", "Google Chrome";v="124", "Not-A.Brand";v="99"',
          'sec-ch-ua-mobile': '?0',
          'sec-fetch-mode': 'cors',
          'user-agent':
            'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
          // curl sends -b as it is, in one Cookie header (it enables no cookie engine).
          Cookie: 'sid=abc123; theme=dark',
        },
      }),
    ],
  },
  {
    name: "Chrome's $'…' ANSI-C quoting of a JSON body (\\' \\u0021 \\u00e9 \\\\)",
    command: String.raw`curl 'https://api.example.com/v1/comments' \
  -H 'content-type: application/json' \
  --data-raw $'{"text":"it\'s great\u0021","emoji":"caf\u00e9","path":"C:\\\\temp"}'`,
    expected: [
      spec({
        method: 'POST',
        url: 'https://api.example.com/v1/comments',
        headers: { 'content-type': 'application/json' },
        body: { kind: 'json', value: { text: "it's great!", emoji: 'café', path: 'C:\\temp' } },
      }),
    ],
  },
  {
    name: 'Firefox "Copy as cURL" of a form POST (Connection dropped, form fields kept)',
    command:
      "curl 'https://shop.example.com/search' -X POST -H 'User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0' " +
      "-H 'Accept: */*' -H 'Accept-Language: en-US,en;q=0.5' -H 'Accept-Encoding: gzip, deflate, br' " +
      "-H 'Content-Type: application/x-www-form-urlencoded; charset=UTF-8' -H 'Origin: https://shop.example.com' " +
      "-H 'Connection: keep-alive' -H 'Cookie: sid=abc123' --data-raw 'q=running+shoes&page=2'",
    expected: [
      spec({
        method: 'POST',
        url: 'https://shop.example.com/search',
        headers: {
          'User-Agent': 'Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0',
          Accept: '*/*',
          'Accept-Language': 'en-US,en;q=0.5',
          'Accept-Encoding': 'gzip, deflate, br',
          'Content-Type': 'application/x-www-form-urlencoded; charset=UTF-8',
          Origin: 'https://shop.example.com',
          Cookie: 'sid=abc123',
        },
        body: { kind: 'form', fields: { q: 'running shoes', page: '2' } },
      }),
    ],
  },
  {
    name: "the GitHub REST docs' create-an-issue example (-L, -X POST, -d JSON without a JSON content type)",
    command: String.raw`curl -L \
  -X POST \
  -H "Accept: application/vnd.github+json" \
  -H "Authorization: Bearer <YOUR-TOKEN>" \
  -H "X-GitHub-Api-Version: 2022-11-28" \
  https://api.github.com/repos/OWNER/REPO/issues \
  -d '{"title":"Found a bug","body":"I'\''m having a problem with this.","labels":["bug"]}'`,
    expected: [
      spec({
        method: 'POST',
        url: 'https://api.github.com/repos/OWNER/REPO/issues',
        headers: {
          Accept: 'application/vnd.github+json',
          Authorization: 'Bearer <YOUR-TOKEN>',
          'X-GitHub-Api-Version': '2022-11-28',
          'Content-Type': 'application/x-www-form-urlencoded',
        },
        body: {
          kind: 'text',
          text: '{"title":"Found a bug","body":"I\'m having a problem with this.","labels":["bug"]}',
        },
        allowRedirects: true,
      }),
    ],
  },
  {
    name: 'an unset $VARIABLE in double quotes expands to nothing, as in the shell, with a note',
    command: 'curl -H "Authorization: Bearer $GITHUB_TOKEN" https://api.github.com/user',
    expected: [
      spec({
        url: 'https://api.github.com/user',
        headers: { Authorization: 'Bearer' },
        notes: ['$GITHUB_TOKEN is not set: expanded to nothing, as the shell would (set it and import again)'],
      }),
    ],
  },
  {
    name: "Stripe's docs: -u key: with an empty password, -d pieces joined with &",
    command: String.raw`curl https://api.stripe.com/v1/charges \
  -u sk_test_4eC39HqLyjWDarjtT1zdp7dc: \
  -d amount=2000 \
  -d currency=usd \
  -d "description=My First Test Charge (created for API docs)"`,
    expected: [
      spec({
        method: 'POST',
        url: 'https://api.stripe.com/v1/charges',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: { kind: 'text', text: 'amount=2000&currency=usd&description=My First Test Charge (created for API docs)' },
        auth: ['sk_test_4eC39HqLyjWDarjtT1zdp7dc', ''],
      }),
    ],
  },
  {
    name: '-G moves --data-urlencode and -d into the query string',
    command: "curl -G 'https://api.example.com/search' --data-urlencode 'q=caffè latte' --data-urlencode 'sort=price asc' -d limit=10",
    expected: [spec({ url: 'https://api.example.com/search?q=caff%C3%A8+latte&sort=price+asc&limit=10' })],
  },
  {
    name: 'every --data-urlencode form: content, =content, name=content, name@file, @file',
    command:
      "curl https://forms.example.com/submit --data-urlencode 'a b' --data-urlencode '=c&d' " +
      "--data-urlencode 'name=e=f' --data-urlencode 'who@names.txt' --data-urlencode '@names.txt'",
    expected: [
      spec({
        method: 'POST',
        url: 'https://forms.example.com/submit',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: { kind: 'text', text: 'a+b&c%26d&name=e%3Df&who=Zo%C3%AB+%26+co%0A&Zo%C3%AB+%26+co%0A' },
        notes: [readNote('--data-urlencode', 'names.txt'), readNote('--data-urlencode', 'names.txt')],
      }),
    ],
  },
  {
    name: '-d @file strips CR and LF like curl',
    command: 'curl -d @form.txt https://x.example.com/login',
    expected: [
      spec({
        method: 'POST',
        url: 'https://x.example.com/login',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: { kind: 'form', fields: { user: 'alice', role: 'admin' } },
        notes: [readNote('-d', 'form.txt')],
      }),
    ],
  },
  {
    // Regression: a json body would be re-serialised compactly, sending other bytes than curl.
    name: '--data-binary @file keeps the file as is (pretty JSON stays text, byte for byte)',
    command: "curl -X PUT -H 'Content-Type: application/json' --data-binary @payload.json https://api.example.com/deployments/7",
    expected: [
      spec({
        method: 'PUT',
        url: 'https://api.example.com/deployments/7',
        headers: { 'Content-Type': 'application/json' },
        body: { kind: 'text', text: '{\n  "name": "loads",\n  "replicas": 3,\n  "tags": ["perf", "http"]\n}\n' },
        notes: [readNote('--data-binary', 'payload.json')],
      }),
    ],
  },
  {
    name: '--data-binary @image sends the bytes',
    command: "curl --data-binary @avatar.png -H 'Content-Type: image/png' -X PUT https://img.example.com/users/1/avatar",
    expected: [
      spec({
        method: 'PUT',
        url: 'https://img.example.com/users/1/avatar',
        headers: { 'Content-Type': 'image/png' },
        body: { kind: 'binary', bytes: readFileSync(`${FIXTURES}avatar.png`) },
        notes: [readNote('--data-binary', 'avatar.png')],
      }),
    ],
  },
  {
    name: '-F with a file upload, a <file value with ;type= and a text field (byte-exact multipart)',
    command: "curl -F 'title=Holiday' -F 'photo=@avatar.png' -F 'meta=<meta.json;type=application/json' https://upload.example.com/photos",
    expected: [
      spec({
        method: 'POST',
        url: 'https://upload.example.com/photos',
        headers: { 'Content-Type': `multipart/form-data; boundary=${BOUNDARY}` },
        body: {
          kind: 'binary',
          bytes: Buffer.concat([
            Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="title"\r\n\r\nHoliday\r\n`),
            Buffer.from(
              `--${BOUNDARY}\r\nContent-Disposition: form-data; name="photo"; filename="avatar.png"\r\nContent-Type: image/png\r\n\r\n`,
            ),
            readFileSync(`${FIXTURES}avatar.png`),
            Buffer.from(
              `\r\n--${BOUNDARY}\r\nContent-Disposition: form-data; name="meta"\r\nContent-Type: application/json\r\n\r\n{"k":1}\r\n`,
            ),
            Buffer.from(`--${BOUNDARY}--\r\n`),
          ]),
        },
        notes: [readNote('-F', 'avatar.png'), readNote('-F', 'meta.json')],
      }),
    ],
  },
  {
    name: '-F with a quoted value holding semicolons, and --form-string taking @ literally',
    command: "curl https://x.example.com/profile -F name=John -F 'bio=\"likes; semicolons\"' --form-string 'raw=@notafile;type=x'",
    expected: [
      spec({
        method: 'POST',
        url: 'https://x.example.com/profile',
        headers: { 'Content-Type': `multipart/form-data; boundary=${BOUNDARY}` },
        body: {
          kind: 'text',
          text:
            `--${BOUNDARY}\r\nContent-Disposition: form-data; name="name"\r\n\r\nJohn\r\n` +
            `--${BOUNDARY}\r\nContent-Disposition: form-data; name="bio"\r\n\r\nlikes; semicolons\r\n` +
            `--${BOUNDARY}\r\nContent-Disposition: form-data; name="raw"\r\n\r\n@notafile;type=x\r\n` +
            `--${BOUNDARY}--\r\n`,
        },
      }),
    ],
  },
  {
    name: '-k, -u and --compressed',
    command: 'curl -k -u admin:s3cr3t --compressed https://localhost:8443/admin/stats',
    expected: [
      spec({
        url: 'https://localhost:8443/admin/stats',
        headers: { 'Accept-Encoding': 'gzip, deflate, br' },
        auth: ['admin', 's3cr3t'],
        insecure: true,
        notes: [COMPRESSED_NOTE, INSECURE_NOTE],
      }),
    ],
  },
  {
    name: '-L with -b cookies',
    command: "curl -L -b 'session=xyz; csrftoken=abc' http://example.com/dashboard",
    expected: [
      spec({
        url: 'http://example.com/dashboard',
        allowRedirects: true,
        headers: { Cookie: 'session=xyz; csrftoken=abc' },
      }),
    ],
  },
  {
    name: 'combined short flags: -sSLk, -XPATCH, -HName:value, -d<data>',
    command: String.raw`curl -sSLk -XPATCH -HContent-Type:application/json -d'{"done":true}' https://todo.example.com/items/42`,
    expected: [
      spec({
        method: 'PATCH',
        url: 'https://todo.example.com/items/42',
        headers: { 'Content-Type': 'application/json' },
        body: { kind: 'json', value: { done: true } },
        allowRedirects: true,
        insecure: true,
        notes: [INSECURE_NOTE],
      }),
    ],
  },
  {
    name: '-I makes a HEAD request',
    command: 'curl -I https://example.com/health',
    expected: [spec({ method: 'HEAD', url: 'https://example.com/health' })],
  },
  {
    name: '-X DELETE with a bearer token',
    command: "curl -X DELETE 'https://api.example.com/items/7?force=true' -H 'Authorization: Bearer t0k3n'",
    expected: [
      spec({
        method: 'DELETE',
        url: 'https://api.example.com/items/7?force=true',
        headers: { Authorization: 'Bearer t0k3n' },
      }),
    ],
  },
  {
    name: "Elasticsearch's -X GET with a JSON body (-X wins over -d's POST)",
    command: `curl -X GET "https://es.example.com/_search" -H 'Content-Type: application/json' -d '{"query":{"match_all":{}}}'`,
    expected: [
      spec({
        url: 'https://es.example.com/_search',
        headers: { 'Content-Type': 'application/json' },
        body: { kind: 'json', value: { query: { match_all: {} } } },
      }),
    ],
  },
  {
    name: '--max-time becomes the timeout; --connect-timeout is noted',
    command: 'curl --max-time 2.5 --connect-timeout 1 https://api.example.com/slow',
    expected: [
      spec({
        url: 'https://api.example.com/slow',
        timeoutMs: 2500,
        notes: ['--connect-timeout ignored: the session has one whole-request timeout; the connect timeout is not reproduced'],
      }),
    ],
  },
  {
    name: '--json sets Content-Type and Accept and makes a POST',
    command: `curl --json '{"name":"loads","tags":["perf"]}' https://api.example.com/projects`,
    expected: [
      spec({
        method: 'POST',
        url: 'https://api.example.com/projects',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: { kind: 'json', value: { name: 'loads', tags: ['perf'] } },
      }),
    ],
  },
  {
    name: 'several URLs (and --url) share the options',
    command: "curl -H 'Accept: text/html' https://a.example.com/ https://b.example.com/page --url https://c.example.com/x",
    expected: ['https://a.example.com/', 'https://b.example.com/page', 'https://c.example.com/x'].map((url) =>
      spec({ url, headers: { Accept: 'text/html' } }),
    ),
  },
  {
    name: '--next starts a request with fresh options',
    command: 'curl -d user=ann https://x.example.com/login --next https://x.example.com/home',
    expected: [
      spec({
        method: 'POST',
        url: 'https://x.example.com/login',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: { kind: 'form', fields: { user: 'ann' } },
      }),
      spec({ url: 'https://x.example.com/home' }),
    ],
  },
  {
    name: 'Chrome "Copy all as cURL": commands separated by ;',
    command: "curl 'https://x.example.com/a' -H 'accept: */*' ;\ncurl 'https://x.example.com/b' -X POST",
    expected: [
      spec({ url: 'https://x.example.com/a', headers: { accept: '*/*' } }),
      // curl sends no Content-Length on a POST without a body; the session is told so.
      spec({ method: 'POST', url: 'https://x.example.com/b', unsetHeaders: ['content-length'] }),
    ],
  },
  {
    name: '-- ends the options',
    command: 'curl -s -- https://example.com/a https://example.com/b',
    expected: [spec({ url: 'https://example.com/a' }), spec({ url: 'https://example.com/b' })],
  },
  {
    name: 'backslash-CRLF continuations from a Windows clipboard',
    command: "curl https://example.com/win \\\r\n  -H 'A: b'\r\n",
    expected: [spec({ url: 'https://example.com/win', headers: { A: 'b' } })],
  },
  {
    name: 'Chrome "Copy as cURL (cmd)" with ^ escapes and ^ continuations',
    command: [
      'curl ^"https://shop.example.com/api/items^" ^',
      '  -H ^"accept: application/json^" ^',
      '  -H ^"content-type: application/json^" ^',
      '  --data-raw ^"^{^\\^"q^\\^":^\\^"50^% off^\\^"^}^"',
    ].join('\n'),
    expected: [
      spec({
        method: 'POST',
        url: 'https://shop.example.com/api/items',
        headers: { accept: 'application/json', 'content-type': 'application/json' },
        body: { kind: 'json', value: { q: '50% off' } },
      }),
    ],
  },
  {
    name: 'a pasted prompt and a pipe into jq',
    command: "$ curl -s https://api.example.com/users | jq '.[0]'",
    expected: [spec({ url: 'https://api.example.com/users' })],
  },
  {
    name: '-H "Name:" removes a header curl adds, -H "Name;" sends it empty',
    command: "curl -H 'User-Agent:' -H 'X-Empty;' -A Custom https://example.com/",
    expected: [spec({ url: 'https://example.com/', headers: { 'X-Empty': '' }, unsetHeaders: ['user-agent'] })],
  },
  {
    name: '-A and -e (with ;auto)',
    command: "curl -A 'LoadsBot/1.0' -e 'https://www.example.org/;auto' https://example.com/landing",
    expected: [
      spec({
        url: 'https://example.com/landing',
        headers: { 'User-Agent': 'LoadsBot/1.0', Referer: 'https://www.example.org/' },
      }),
    ],
  },
  {
    name: '--oauth2-bearer and -r',
    command: 'curl --oauth2-bearer abc.def -r 0-1023 https://files.example.com/big.iso',
    expected: [
      spec({
        url: 'https://files.example.com/big.iso',
        headers: { Authorization: 'Bearer abc.def', Range: 'bytes=0-1023' },
      }),
    ],
  },
  {
    // Regression: curl turns -r into Content-Range when it sends data (and checked by the e2e comparison).
    name: '-r with data sends Content-Range with the body length, not Range',
    command: "curl -X PATCH -r 0-99 -d 'n=1' https://files.example.com/part",
    expected: [
      spec({
        method: 'PATCH',
        url: 'https://files.example.com/part',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'Content-Range': 'bytes 0-99/3' },
        body: { kind: 'form', fields: { n: '1' } },
      }),
    ],
  },
  {
    name: 'the #fragment is not sent',
    command: "curl 'https://example.com/docs#install'",
    expected: [spec({ url: 'https://example.com/docs' })],
  },
  {
    name: '--url-query encodes, or not with +',
    command: "curl --url-query 'q=a b' --url-query '+raw=1%202' 'https://example.com/s?x=1'",
    expected: [spec({ url: 'https://example.com/s?x=1&q=a+b&raw=1%202' })],
  },
  {
    name: 'repeated headers are joined (cookies with ;)',
    command: "curl -H 'X-Tag: a' -H 'x-tag: b' -H 'Cookie: a=1' -H 'cookie: b=2' https://example.com/",
    expected: [spec({ url: 'https://example.com/', headers: { 'X-Tag': 'a, b', Cookie: 'a=1; b=2' } })],
  },
]

describe('parseCurl', () => {
  it.each(cases)('reads $name', ({ command, expected }) => {
    expect(parse(command)).toEqual(expected)
  })

  it("keeps raw bytes from $'\\x…' escapes byte for byte (not as U+FFFD)", () => {
    const [request] = parse(String.raw`curl --data-binary $'\x00\x01\xff\xc3\xa9' -H 'Content-Type: application/octet-stream' https://example.com/bin`)
    expect(request?.body).toEqual({ kind: 'binary', bytes: Buffer.from([0x00, 0x01, 0xff, 0xc3, 0xa9]) })
  })

  it('skips the other shell lines around a curl command in docs, with a warning', () => {
    const warnings: string[] = []
    const requests = parseCurl('export TOKEN=abc\ncurl -s https://example.com/ > /dev/null 2>&1 && echo ok', {
      onWarning: (message) => warnings.push(message),
    })
    expect(requests).toEqual([spec({ url: 'https://example.com/' })])
    expect(warnings).toEqual(['read "export TOKEN=abc" as variables for the commands after it', 'skipped "echo ok": not a curl command'])
  })

  it('has a table of at least 25 real-world commands', () => {
    expect(cases.length).toBeGreaterThanOrEqual(25)
  })

  it('reports notes through onWarning too', () => {
    const warnings: string[] = []
    parseCurl('curl --retry 3 https://example.com/', { onWarning: (message) => warnings.push(message) })
    expect(warnings).toEqual(['--retry ignored: failed requests are recorded, never retried, in a load test'])
  })
})

describe('parseCurl errors', () => {
  const failure = (command: string): CurlParseError => {
    try {
      parse(command)
    } catch (error) {
      if (error instanceof CurlParseError) return error
      throw error
    }
    throw new Error(`parsed without error: ${command}`)
  }

  it('points at an unbalanced single quote', () => {
    const error = failure("curl https://example.com \\\n  -H 'accept: */*")
    expect(error.code).toBe('LOADS_ERR_CURL')
    expect(error).toBeInstanceOf(UsageError)
    expect(error.message).toBe(
      'unbalanced single quote opened at line 2, column 6: the command ends before the closing quote (was it cut when copying?)',
    )
    expect(error.position).toBe(32)
  })

  it('points at an unbalanced double quote and an unbalanced $\'…\'', () => {
    expect(failure('curl "https://example.com').message).toMatch(/^unbalanced double quote opened at line 1, column 6/)
    expect(failure("curl -d $'abc https://example.com").message).toMatch(/^unbalanced \$'…' \(ANSI-C\) quote/)
  })

  it.each([
    ['curl --proxy http://proxy:3128 https://example.com/', '--proxy'],
    ['curl -x http://proxy:3128 https://example.com/', '-x'],
    ['curl --http3 https://example.com/', '--http3'],
    ['curl --cert client.pem:secret https://example.com/', '--cert'],
    ['curl --capath /etc/ssl https://example.com/', '--capath'],
    ['curl --digest -u a:b https://example.com/', '--digest'],
    ['curl --connect-to example.com:443:127.0.0.1:8443 https://example.com/', '--connect-to'],
  ])('refuses %s naming the option', (command, option) => {
    const error = failure(command)
    expect(error.option).toBe(option)
    expect(error.message).toContain(`curl option ${option} is not supported: `)
  })

  it('names an unknown option', () => {
    expect(failure('curl --frobnicate https://example.com/').message).toBe(
      'unknown curl option --frobnicate: curl does not know it either',
    )
  })

  it('says when the text is not a curl command', () => {
    expect(failure('wget https://example.com/').message).toBe(
      'not a curl command: line 1, column 1 starts with "wget"',
    )
    expect(failure('   ').message).toBe('not a curl command: the text is empty')
  })

  it('suspects a lost line continuation', () => {
    expect(failure("curl https://example.com/\n  -H 'a: b'").message).toBe(
      'line 2, column 3 starts with the option "-H" outside any curl command: did the line before it lose its trailing backslash (\\) continuation?',
    )
  })

  it('refuses a cookie file, a password prompt, stdin, a missing file, -F with -d, ftp and a missing value', () => {
    expect(failure('curl -b cookies.txt https://example.com/').message).toContain('reads cookies from a file')
    expect(failure('curl -u admin https://example.com/').message).toContain('curl would prompt for it')
    expect(failure('curl -d @- https://example.com/').message).toContain('reads standard input')
    expect(failure('curl -F file=@missing.bin https://example.com/').message).toContain(
      'needs the file "missing.bin" (ENOENT)',
    )
    expect(failure('curl -F a=b -d c=d https://example.com/').message).toContain('-F (multipart) with -d')
    expect(failure('curl ftp://example.com/file').message).toContain('only http:// and https://')
    expect(failure('curl https://example.com/ -H').message).toBe('curl option -H needs a value')
    expect(failure("curl -H 'a: b'").message).toBe('the curl command has no URL')
  })
})
