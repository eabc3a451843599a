// CPU per request of Loads' Session alone (no runner, no TestCase): `users` Sessions each looping
// on GET for `seconds`, checking the body as the bench's TestCase does. Prints one JSON line with
// CPU-µs per request. Used to compare client layers (LOADS_HTTPS1=undici, LOADS_HTTP2=undici).
// Usage (after npm run build): taskset -c 1 node bench/peers/session-loop.mjs URL USERS SECONDS [h1|h2]
import { Session } from '../../dist/http/session.js'

const [url, usersArg, secondsArg, protocol = 'h1'] = process.argv.slice(2)
const users = Number(usersArg ?? 50)
const seconds = Number(secondsArg ?? 5)
let hits = 0
let errors = 0
const sink = { recordHit: (_m, _n, _s, _t, _f, _c, _i, _o, kind) => { hits++; if (kind !== null) errors++ } }
const deadline = Date.now() + seconds * 1000
const started = performance.now()
await Promise.all(Array.from({ length: users }, async () => {
  const session = new Session({ sink, http2: protocol === 'h2', insecure: true })
  while (Date.now() < deadline) {
    const res = await session.get(url)
    if (!res.content.includes('loads-bench-ok')) throw new Error('unexpected body')
  }
  await session.close()
}))
const cpu = process.cpuUsage()
process.stdout.write(`${JSON.stringify({ cpuUsPerRequest: Math.round((cpu.user + cpu.system) / hits), hits, errors, perSecond: Math.round(hits / ((performance.now() - started) / 1000)) })}\n`)
