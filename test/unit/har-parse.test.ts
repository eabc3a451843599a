import { readFileSync } from 'node:fs'
import { transform } from 'esbuild'
import { describe, expect, it } from 'vitest'
import { UsageError } from '../../src/errors.js'
import { generateTestCase } from '../../src/shell/codegen.js'
import { HarParseError } from '../../src/shell/har/har-parse-error.js'
import { parseHar } from '../../src/shell/har/parse.js'
import type { HarRequest } from '../../src/shell/har/parse.js'

const fixture = (name: string): string => readFileSync(new URL(`../fixtures/har/${name}`, import.meta.url), 'utf8')
const SHOP = fixture('shop.har')
const UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36'
const BROWSER = { 'accept-encoding': 'gzip, deflate, br', 'accept-language': 'en-US,en;q=0.9' }
const base = { body: { kind: 'none' } as const, allowRedirects: false, insecure: false, group: 'https://shop.example.com/' }

describe('parseHar', () => {
  it('keeps the API and page requests in order, without static assets, cache hits or data: URLs', () => {
    const warnings: string[] = []
    const requests = parseHar(SHOP, { onWarning: (message) => warnings.push(message) })
    const expected: HarRequest[] = [
      {
        ...base,
        method: 'GET',
        url: 'https://shop.example.com/',
        headers: {
          ...BROWSER,
          accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8',
          'sec-ch-ua': '"Chromium";v="124", "Google Chrome";v="124"',
          'upgrade-insecure-requests': '1',
          'user-agent': UA,
        },
        status: 200,
        // Every cookie the recording sent before any response set it is seeded before the first
        // request: later seeding would overwrite a session the run made itself.
        cookies: [
          ['_ga', 'GA1.1.1234567890.1714640000'],
          ['consent', 'analytics'],
          ['cart_hint', 'abc'],
        ],
      },
      {
        ...base,
        method: 'GET',
        url: 'https://shop.example.com/api/products?page=1&sort=price',
        headers: { Accept: 'application/json', 'X-Requested-With': 'XMLHttpRequest' },
        status: 200,
      },
      {
        ...base,
        method: 'POST',
        url: 'https://www.google-analytics.com/g/collect?v=2&tid=G-XYZ&en=page_view',
        headers: { 'content-type': 'text/plain;charset=UTF-8' },
        status: 204,
      },
      {
        ...base,
        method: 'POST',
        url: 'https://shop.example.com/api/cart',
        headers: { ...BROWSER, 'content-type': 'application/json', 'x-csrf-token': 'tok"en', 'user-agent': UA },
        body: { kind: 'json', value: { productId: 42, qty: 1 } },
        status: 201,
      },
      {
        ...base,
        method: 'POST',
        url: 'https://shop.example.com/login',
        headers: {
          ...BROWSER,
          'content-type': 'application/x-www-form-urlencoded',
          origin: 'https://shop.example.com',
          'user-agent': UA,
        },
        body: { kind: 'form', fields: { email: 'ann@example.com', password: 'hunter2' } },
        status: 302,
        // The next request goes where the live 302 points (correlated redirect).
        extract: [{ variable: 'location', kind: 'location', args: [], note: 'location: where the response to POST /login redirects (recorded https://shop.example.com/account)' }],
      },
      { ...base, method: 'GET', url: 'https://shop.example.com/account', headers: { ...BROWSER, 'user-agent': UA }, status: 200, urlFrom: 'location' },
      { ...base, method: 'GET', url: 'https://shop.example.com/api/recommendations', headers: { ...BROWSER, 'user-agent': UA } },
    ]
    expect(requests).toEqual(expected)
    expect(requests[6]).not.toHaveProperty('status')
    expect(warnings).toEqual([
      'left out 5 static asset request(s) (scripts, styles, images, fonts, media); --include-static keeps them',
      'left out 1 request(s) the browser answered from its cache',
      'left out 1 non-HTTP entr(ies) (data:, blob:, ws:, extensions)',
    ])
  })

  it('keeps only the included hosts (exact, wildcard or URL)', () => {
    const urls = (include: string[], includeStatic = false): string[] =>
      parseHar(SHOP, { include, includeStatic }).map((request) => request.url)
    const shopApi = [
      'https://shop.example.com/',
      'https://shop.example.com/api/products?page=1&sort=price',
      'https://shop.example.com/api/cart',
      'https://shop.example.com/login',
      'https://shop.example.com/account',
      'https://shop.example.com/api/recommendations',
    ]
    expect(urls(['shop.example.com'])).toEqual(shopApi)
    expect(urls(['SHOP.example.com:443', 'nowhere.test'])).toEqual([])
    expect(urls(['https://www.google-analytics.com/'])).toEqual([
      'https://www.google-analytics.com/g/collect?v=2&tid=G-XYZ&en=page_view',
    ])
    expect(urls(['*.example.com'], true)).toEqual([
      'https://shop.example.com/',
      'https://shop.example.com/static/app.3f2a9c.js',
      'https://shop.example.com/static/site.css?v=12',
      'https://shop.example.com/api/products?page=1&sort=price',
      'https://shop.example.com/api/cart',
      'https://shop.example.com/login',
      'https://shop.example.com/account',
      'https://shop.example.com/static/app.3f2a9c.js.map',
      'https://shop.example.com/api/recommendations',
    ])
  })

  it('with includeStatic keeps fonts and images from other hosts too', () => {
    const urls = parseHar(SHOP, { includeStatic: true }).map((request) => request.url)
    expect(urls.length).toBe(12)
    expect(urls).toContain('https://cdn.example.net/img/hero.webp')
    expect(urls).toContain('https://fonts.gstatic.com/s/inter/v13/inter.woff2')
  })

  it('accepts an already parsed object', () => {
    expect(parseHar(JSON.parse(SHOP) as unknown).length).toBe(7)
  })

  it('turns a recording into a test that replays it and asserts the recorded statuses', async () => {
    const requests = parseHar(SHOP, { include: ['shop.example.com'] })
    const code = generateTestCase(requests, {
      className: 'ShopTest',
      source: 'a HAR file',
      assertStatus: requests.map((request) => request.status),
    })
    const { code: js } = await transform(code, { loader: 'ts', format: 'esm' })
    expect(js).toContain('class ShopTest extends TestCase')
    expect(code).toContain('this.session.cookies.set("_ga=GA1.1.1234567890.1714640000", "https://shop.example.com/")')
    expect(code).toContain('this.session.cookies.set("cart_hint=abc", "https://shop.example.com/")')
    expect(code.match(/this\.assertEqual\(res\d\.status, (\d+)\)/g)).toEqual([
      'this.assertEqual(res1.status, 200)',
      'this.assertEqual(res2.status, 200)',
      'this.assertEqual(res3.status, 201)',
      'this.assertEqual(res4.status, 302)',
      'this.assertEqual(res5.status, 200)',
    ])
    expect(code).toContain('await this.session.get("https://shop.example.com/api/recommendations", {')
  })
})

describe('parseHar errors', () => {
  const failure = (input: unknown): HarParseError => {
    try {
      parseHar(input)
    } catch (error) {
      if (error instanceof HarParseError) return error
      throw error
    }
    throw new Error('parsed without error')
  }

  it('says a JSON file without log.entries is not a HAR', () => {
    const error = failure(fixture('not-a-har.json'))
    expect(error.code).toBe('LOADS_ERR_HAR')
    expect(error).toBeInstanceOf(UsageError)
    expect(error.message).toBe(
      'not a HAR file: expected an object with log.entries (an array); export one from the browser network panel with "Save all as HAR"',
    )
  })

  it('says text that is not JSON is not a HAR', () => {
    expect(failure('curl https://example.com').message).toMatch(/^not a HAR file: it is not JSON \(/)
  })

  it('skips an entry without a method or URL with a warning naming it, and keeps the rest', () => {
    const warnings: string[] = []
    const requests = parseHar({ log: { entries: [{ request: { method: 'GET', url: 'https://a/' } }, { request: { method: 'GET' } }, { request: { url: 'https://a/b' } }] } }, { onWarning: (w) => warnings.push(w) })
    expect(requests.map((r) => r.url)).toEqual(['https://a/'])
    expect(warnings).toEqual(['entry 1: skipped: request.url is missing', 'entry 2: skipped: request.method is missing or not an HTTP method'])
  })
})
