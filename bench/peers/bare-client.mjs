#!/usr/bin/env node
// The least a Node client can do, for bench/accuracy-split.mjs --bare: USERS keep-alive
// connections (net, no HTTP library), each sending GET / and, once the whole answer is in,
// the next one, for SECONDS. It reads the delay server's x-arrived-ns / x-sent-ns stamps and
// writes the same rows as bench/accuracy-split-case.ts to $LOADS_SPLIT_OUT, so the split's
// analysis compares Loads' worker with a bare event loop in the very same scene.
//
//   LOADS_SPLIT_OUT=out.json node bench/peers/bare-client.mjs URL USERS SECONDS
import { writeFileSync } from 'node:fs'
import net from 'node:net'

const [url, usersArg, secondsArg] = process.argv.slice(2)
const { hostname, port } = new URL(url)
const users = Number(usersArg)
const seconds = Number(secondsArg)
const out = process.env.LOADS_SPLIT_OUT
if (!(users > 0) || !(seconds > 0) || !out) {
  process.stderr.write('usage: LOADS_SPLIT_OUT=out.json node bench/peers/bare-client.mjs URL USERS SECONDS\n')
  process.exit(2)
}
performance.now()
// performance.now() is CLOCK_MONOTONIC from an origin: the offset turns the server's stamps into it.
const offsetMs = Number(process.hrtime.bigint()) / 1e6 - performance.now()
const request = Buffer.from(`GET / HTTP/1.1\r\nhost: ${hostname}:${port}\r\n\r\n`)
const rows = []
const deadline = performance.now() + seconds * 1000
let open = users

for (let u = 0; u < users; u++) {
  const socket = net.connect({ host: hostname, port: Number(port), noDelay: true })
  let start = 0
  let pending = ''
  const send = () => {
    if (performance.now() >= deadline) {
      socket.destroy()
      if (--open === 0) finish()
      return
    }
    start = performance.now()
    socket.write(request)
  }
  socket.on('connect', send)
  socket.on('error', (err) => {
    process.stderr.write(`bare client: ${err.message}\n`)
    process.exit(1)
  })
  socket.on('data', (chunk) => {
    pending += chunk.toString('latin1')
    const headEnd = pending.indexOf('\r\n\r\n')
    if (headEnd === -1) return
    const length = Number(/content-length: *(\d+)/i.exec(pending)?.[1] ?? 0)
    if (pending.length < headEnd + 4 + length) return
    const end = performance.now()
    const arrived = Number(/x-arrived-ns: *(\d+)/i.exec(pending)?.[1]) / 1e6 - offsetMs
    const answered = Number(/x-sent-ns: *(\d+)/i.exec(pending)?.[1]) / 1e6 - offsetMs
    rows.push(start, arrived, answered, end, end - start)
    pending = ''
    send()
  })
}

function finish() {
  writeFileSync(out, JSON.stringify({ fields: ['sent', 'arrived', 'answered', 'end', 'latency'], rows, gcs: [] }))
  console.log(`bare client: ${rows.length / 5} hits`)
}
