#!/usr/bin/env node
// The least node:http2 can do, for bench/h2-ceiling.mjs: USERS sessions (TLS with ALPN h2, or h2c
// for http:), each with one stream at a time (GET, body read to the end), for SECONDS. Prints one
// JSON line with requests, CPU-µs per request and req/s. No Loads code: the ceiling of node:http2.
//   taskset -c 1 node bench/peers/h2-bare.mjs URL USERS SECONDS
import http2 from 'node:http2'

const [url, usersArg, secondsArg] = process.argv.slice(2)
const users = Number(usersArg ?? 50)
const seconds = Number(secondsArg ?? 5)
const target = new URL(url)
let hits = 0
let errors = 0
const deadline = Date.now() + seconds * 1000
const started = performance.now()
await Promise.all(Array.from({ length: users }, () => new Promise((resolve) => {
  const session = http2.connect(target.origin, { rejectUnauthorized: false, settings: { enablePush: false, initialWindowSize: 1 << 20 } })
  session.on('error', () => {})
  const next = () => {
    if (Date.now() >= deadline) {
      session.close(resolve)
      return
    }
    const stream = session.request({ ':method': 'GET', ':path': target.pathname, ':scheme': target.protocol.slice(0, -1), ':authority': target.host })
    let status = 0
    let body = ''
    stream.setEncoding('latin1')
    stream.on('response', (h) => (status = h[':status']))
    stream.on('data', (d) => (body += d))
    stream.on('end', () => {
      hits++
      if (status !== 200 || !body.includes('loads-bench-ok')) errors++
      next()
    })
    stream.on('error', () => { errors++; next() })
  }
  next()
})))
const cpu = process.cpuUsage()
process.stdout.write(`${JSON.stringify({ cpuUsPerRequest: Math.round((cpu.user + cpu.system) / hits), hits, errors, perSecond: Math.round(hits / ((performance.now() - started) / 1000)) })}\n`)
