#!/usr/bin/env node
// The least a Node HTTP/1.1 client can do over keep-alive, plain or TLS: USERS connections (net
// or tls, ALPN http/1.1, reads straight into one buffer via `onread`), each sending GET / and, once
// the whole answer is in (head + Content-Length), the next one, for SECONDS; the body is checked
// for the bench's marker, as the bench's TestCase does. Prints one JSON line: {"requests":N}.
// bench/layers.mjs runs it beside Loads to show what Loads' layers cost per request.
//
//   taskset -c 1 node bench/peers/bare-loop.mjs https://127.0.0.1:PORT USERS SECONDS
import net from 'node:net'
import tls from 'node:tls'

const [url, usersArg = '50', secondsArg = '10'] = process.argv.slice(2)
const target = url === undefined ? undefined : new URL(url)
const users = Number(usersArg)
const seconds = Number(secondsArg)
if (target === undefined || !(users > 0) || !(seconds > 0)) {
  process.stderr.write('usage: node bench/peers/bare-loop.mjs http[s]://HOST:PORT USERS SECONDS\n')
  process.exit(2)
}
const secure = target.protocol === 'https:'
const head = Buffer.from(`GET / HTTP/1.1\r\nhost: ${target.host}\r\n\r\n`, 'latin1')
const MARKER = Buffer.from('loads-bench-ok')
const deadline = Date.now() + seconds * 1000
const readBuffer = Buffer.allocUnsafe(65536)
let requests = 0
let open = users

for (let i = 0; i < users; i++) {
  // The answer so far (nginx's answers fit one read; a split one is joined).
  let pending = null
  let want = -1
  const onread = {
    buffer: readBuffer,
    callback: (n) => {
      const chunk = Buffer.from(readBuffer.subarray(0, n))
      pending = pending === null ? chunk : Buffer.concat([pending, chunk])
      if (want < 0) {
        const end = pending.indexOf('\r\n\r\n')
        if (end < 0) return true
        const length = /\r\ncontent-length: *(\d+)/i.exec(pending.toString('latin1', 0, end))
        if (length === null) throw new Error('an answer without Content-Length')
        want = end + 4 + Number(length[1])
      }
      if (pending.length < want) return true
      if (pending.indexOf(MARKER) < 0) throw new Error('unexpected body')
      requests++
      pending = null
      want = -1
      if (Date.now() < deadline) socket.write(head)
      else socket.end()
      return true
    },
  }
  const options = { host: target.hostname, port: Number(target.port), onread, noDelay: true }
  const socket = secure ? tls.connect({ ...options, rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] }) : net.connect(options)
  socket.once(secure ? 'secureConnect' : 'connect', () => socket.write(head))
  socket.on('error', (err) => {
    process.stderr.write(`${err.message}\n`)
    process.exitCode = 1
  })
  socket.on('close', () => {
    if (--open === 0) process.stdout.write(`${JSON.stringify({ requests })}\n`)
  })
}
