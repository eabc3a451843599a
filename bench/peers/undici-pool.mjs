// The bare undici baseline: `connections` loops, each awaiting pool.request() and reading the
// body, for `seconds`. No user code, no stats beyond a latency histogram: what the transport Loads
// is built on gives on its own. Prints one JSON line.
// Usage: node bench/peers/undici-pool.mjs URL CONNECTIONS SECONDS
import { build } from 'hdr-histogram-js'
import { Pool } from 'undici'

const [url, connectionsArg, secondsArg] = process.argv.slice(2)
const connections = Number(connectionsArg ?? 50)
const seconds = Number(secondsArg ?? 10)
const pool = new Pool(url, { connections, pipelining: 1 })
const histogram = build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3, useWebAssembly: false })
const deadline = performance.now() + seconds * 1000
let requests = 0
let errors = 0

async function loop() {
  while (performance.now() < deadline) {
    const start = performance.now()
    try {
      const { body } = await pool.request({ path: '/', method: 'GET' })
      await body.arrayBuffer()
      histogram.recordValue(Math.round((performance.now() - start) * 1000))
      requests++
    } catch {
      errors++
    }
  }
}

await Promise.all(Array.from({ length: connections }, loop))
await pool.close()
console.log(JSON.stringify({ requests, errors, p50Ms: histogram.getValueAtPercentile(50) / 1000, p99Ms: histogram.getValueAtPercentile(99) / 1000 }))
