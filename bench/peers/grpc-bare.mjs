// The bare @grpc/grpc-js baseline of the gRPC scene: `users` loops, each with a client of its own
// (its own connection, as each Loads user has), making unary GetItem calls for `seconds` and
// checking the answer as the TestCase does. Prints one JSON line.
// Usage: node bench/peers/grpc-bare.mjs HOST:PORT USERS SECONDS
import { fileURLToPath } from 'node:url'
import { credentials, loadPackageDefinition } from '@grpc/grpc-js'
import { loadSync } from '@grpc/proto-loader'
import { build } from 'hdr-histogram-js'

const [target, usersArg, secondsArg] = process.argv.slice(2)
const users = Number(usersArg ?? 50)
const seconds = Number(secondsArg ?? 10)
const proto = fileURLToPath(new URL('../grpc/bench.proto', import.meta.url))
const { bench } = loadPackageDefinition(loadSync(proto, { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true }))
const histogram = build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3, useWebAssembly: false })
const deadline = performance.now() + seconds * 1000
let requests = 0
let errors = 0

async function loop() {
  const client = new bench.Items(target, credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 })
  while (performance.now() < deadline) {
    const start = performance.now()
    try {
      const item = await new Promise((resolve, reject) => client.GetItem({ id: 7 }, { deadline: Date.now() + 30_000 }, (err, res) => (err ? reject(err) : resolve(res))))
      if (item.name !== 'item-7') throw new Error('unexpected answer')
      histogram.recordValue(Math.round((performance.now() - start) * 1000))
      requests++
    } catch {
      errors++
    }
  }
  client.close()
}

await Promise.all(Array.from({ length: users }, loop))
process.stdout.write(`${JSON.stringify({ requests, errors, p50Ms: histogram.getValueAtPercentile(50) / 1000, p99Ms: histogram.getValueAtPercentile(99) / 1000 })}\n`)
