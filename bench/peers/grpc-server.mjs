// The gRPC benchmark's server: @grpc/grpc-js serving bench/grpc/bench.proto on 127.0.0.1, and a
// plain HTTP counter (GET /count → calls answered) for the harness. Prints `PORT COUNTPORT`.
// Usage: node bench/peers/grpc-server.mjs
import http from 'node:http'
import { fileURLToPath } from 'node:url'
import { loadPackageDefinition, Server, ServerCredentials } from '@grpc/grpc-js'
import { loadSync } from '@grpc/proto-loader'

const proto = fileURLToPath(new URL('../grpc/bench.proto', import.meta.url))
const { bench } = loadPackageDefinition(loadSync(proto, { keepCase: true, defaults: true }))
let calls = 0
const server = new Server()
server.addService(bench.Items.service, {
  GetItem(call, callback) {
    calls++
    callback(null, { id: call.request.id, name: `item-${call.request.id}` })
  },
})
const port = await new Promise((resolve, reject) => server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))))
const counter = http.createServer((req, res) => res.end(String(calls)))
await new Promise((resolve) => counter.listen(0, '127.0.0.1', resolve))
process.stdout.write(`${port} ${counter.address().port}\n`)
process.on('SIGTERM', () => {
  server.forceShutdown()
  counter.close()
  process.exit(0)
})
