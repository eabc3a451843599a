// The bare @grpc/grpc-js baselines of the gRPC scene: `users` loops, each with a client of its own
// (its own connection, as each Loads user has), making unary GetItem calls for `seconds` and
// checking the answer as the TestCase does. Prints one JSON line.
//   client   (default) the generated client's method, as a grpc-js user writes it
//   channel  each call straight on the client's channel (createCall, start, message, half close):
//            the way Loads makes a unary call (src/grpc/grpc-client.ts, UnaryCall), without
//            grpc-js's Client layers — the floor of a grpc-js unary call
// Usage: node bench/peers/grpc-bare.mjs HOST:PORT USERS SECONDS [client|channel]
import { fileURLToPath } from 'node:url'
import { credentials, loadPackageDefinition, Metadata } from '@grpc/grpc-js'
import { loadSync } from '@grpc/proto-loader'
import { build } from 'hdr-histogram-js'

const [target, usersArg, secondsArg, way = 'client'] = process.argv.slice(2)
const users = Number(usersArg ?? 50)
const seconds = Number(secondsArg ?? 10)
if (way !== 'client' && way !== 'channel') throw new Error(`grpc-bare: '${way}' is neither client nor channel`)
const proto = fileURLToPath(new URL('../grpc/bench.proto', import.meta.url))
const { bench } = loadPackageDefinition(loadSync(proto, { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true }))
const getItem = bench.Items.service.GetItem
const histogram = build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3, useWebAssembly: false })
const deadline = performance.now() + seconds * 1000
let requests = 0
let errors = 0

/** One unary call on the channel; resolves with the response, rejects on any other status than OK. */
function onChannel(channel, request) {
  return new Promise((resolve, reject) => {
    const call = channel.createCall(getItem.path, Date.now() + 30_000, undefined, null, undefined)
    let response
    call.start(new Metadata(), {
      onReceiveMetadata() {},
      onReceiveMessage(bytes) {
        response = getItem.responseDeserialize(bytes)
      },
      onReceiveStatus(status) {
        if (status.code === 0 && response !== undefined) resolve(response)
        else reject(new Error(status.details))
      },
    })
    call.startRead()
    call.sendMessageWithContext({}, getItem.requestSerialize(request))
    call.halfClose()
  })
}

async function loop() {
  const client = new bench.Items(target, credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 })
  const channel = client.getChannel()
  while (performance.now() < deadline) {
    const start = performance.now()
    try {
      const item =
        way === 'channel'
          ? await onChannel(channel, { id: 7 })
          : await new Promise((resolve, reject) => client.GetItem({ id: 7 }, { deadline: Date.now() + 30_000 }, (err, res) => (err ? reject(err) : resolve(res))))
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
