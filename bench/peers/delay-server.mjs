// A server that answers every request after DELAY_MS (default 50), for the accuracy benchmark when
// no C compiler is at hand (bench/peers/delay-server.c is the exact one: this one's own p99 was
// 52-54 ms, and it cannot see how late it reads a request).
// A plain setTimeout fires up to a millisecond late (libuv keeps time in whole ms), so the last
// 2 ms are waited out by polling the loop (setImmediate): the server burns its core to be exact.
// It measures its own delays (request parsed → response written) so the report can show how exact
// the server itself was next to what Loads reported. GET /stats answers them as JSON; GET /reset
// starts counting afresh.
// Usage: node bench/peers/delay-server.mjs [DELAY_MS]   (prints the port on stdout)
import http from 'node:http'
import { build } from 'hdr-histogram-js'

const delayMs = Number(process.argv[2] ?? 50)
const body = Buffer.from('<!doctype html><title>loads-bench-ok</title>\n')
const histogram = build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3, useWebAssembly: false })
let requests = 0

const server = http.createServer((req, res) => {
  if (req.url === '/reset') {
    histogram.reset()
    requests = 0
    res.end('{}')
    return
  }
  if (req.url === '/stats') {
    res.setHeader('content-type', 'application/json')
    res.end(JSON.stringify({ requests, p50Ms: histogram.getValueAtPercentile(50) / 1000, p99Ms: histogram.getValueAtPercentile(99) / 1000, maxMs: histogram.maxValue / 1000, minMs: histogram.minNonZeroValue / 1000 }))
    return
  }
  requests++
  const start = performance.now()
  req.resume()
  // Every request waits the same time, so due times come in order: a FIFO is the schedule.
  queue.push({ due: start + delayMs, start, res })
  if (!armed) arm(start)
})

const queue = []
let armed = false

function arm(now) {
  armed = true
  const wait = queue[0].due - now - 2
  if (wait > 0) setTimeout(poll, wait)
  else setImmediate(poll)
}

function poll() {
  const now = performance.now()
  while (queue.length > 0 && queue[0].due <= now) {
    const { start, res } = queue.shift()
    res.writeHead(200, { 'content-type': 'text/html', 'content-length': body.length })
    res.end(body)
    histogram.recordValue(Math.round((performance.now() - start) * 1000))
  }
  if (queue.length === 0) armed = false
  else arm(now)
}
server.keepAliveTimeout = 120_000
server.listen(0, '127.0.0.1', () => console.log(server.address().port))
process.on('SIGTERM', () => server.close(() => process.exit(0)))
