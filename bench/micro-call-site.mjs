// Micro-benchmark of the call site each HTTP request carries (src/http/call-site.ts), so a
// network error's traceback points at the test's line: ns per stack capture and per cached
// look-up (what a request pays: one capture per method and name, then look-ups) inside an async
// test-like call chain, beside ns per request of a real Session loop against a local server.
// Usage: npm run build && node bench/micro-call-site.mjs
import { createServer } from 'node:http'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { join } from 'node:path'

const root = fileURLToPath(new URL('..', import.meta.url))
const { callSiteFor, captureCallSite } = await import(pathToFileURL(join(root, 'dist/http/call-site.js')).href)
const { Session } = await import(pathToFileURL(join(root, 'dist/http/session.js')).href)

// (1) The capture alone, at the depth a test's request has: test method → helper → get → #send.
class FakeSession {
  n = 0
  get(mode) { return this.#send(mode) }
  #send(mode) {
    if (mode === 'capture') captureCallSite(this.#send)
    else if (mode === 'cached') callSiteFor('GET', '/items/{id}', this.#send)
    else this.n++
    return Promise.resolve()
  }
}
const fake = new FakeSession()
async function helper(capture) { await fake.get(capture) }
async function testMethod(capture, n) { for (let i = 0; i < n; i++) await helper(capture) }

async function perCallNs(capture, n) {
  const t0 = process.hrtime.bigint()
  await testMethod(capture, n)
  return Number(process.hrtime.bigint() - t0) / n
}

const N = 300_000
for (const mode of ['none', 'capture', 'cached']) await perCallNs(mode, 20_000)
const rounds = []
for (let r = 0; r < 5; r++) rounds.push({ none: await perCallNs('none', N), capture: await perCallNs('capture', N), cached: await perCallNs('cached', N) })
const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const loopNone = median(rounds.map((r) => r.none))
const captureNs = median(rounds.map((r) => r.capture)) - loopNone
const cachedNs = median(rounds.map((r) => r.cached)) - loopNone

// (2) A real request: a Session loop against a local keep-alive server, 16 loops at once.
const server = createServer((_req, res) => res.end('ok'))
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
const origin = `http://127.0.0.1:${server.address().port}`
let hits = 0
const sink = { recordHit() { hits++ } }
const session = new Session({ sink, baseUrl: origin, timeoutMs: 5000 })
const REQUESTS = 20_000
async function loop(n) { for (let i = 0; i < n; i++) await session.get('/') }
await Promise.all(Array.from({ length: 16 }, () => loop(200)))
const t0 = process.hrtime.bigint()
await Promise.all(Array.from({ length: 16 }, () => loop(REQUESTS / 16)))
const requestNs = Number(process.hrtime.bigint() - t0) / REQUESTS
await session.close()
server.close()

console.log(`await chain alone: ${loopNone.toFixed(0)} ns per call (median of 5 × ${N})`)
console.log(`stack capture:     +${captureNs.toFixed(0)} ns per call = ${((captureNs / requestNs) * 100).toFixed(2)}% of a request`)
console.log(`cached look-up:    +${cachedNs.toFixed(0)} ns per call = ${((cachedNs / requestNs) * 100).toFixed(2)}% of a request (what each request pays)`)
console.log(`request:           ${(requestNs / 1000).toFixed(1)} µs (Session → local keep-alive server, 16 loops, ${REQUESTS} requests, ${hits} hits recorded)`)
