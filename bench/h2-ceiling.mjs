#!/usr/bin/env node
// Issue 20's HTTP/2 question, measured: in the TLS/h2 scene (nginx on core 0, `listen … ssl http2`),
// how far is each client from h2load? Alternates, round by round, h2load (`-c N -m 1`), a bare
// node:http2 loop (bench/peers/h2-bare.mjs: the ceiling of node:http2), Loads' Session loop on
// node:http2 (LOADS_HTTP2=node) and on its own framing (bench/peers/session-loop.mjs h2), each on
// core 1; req/s counted by nginx and CPU-µs per request from /proc (steady part). Also the runner
// with a TestCase (loads-own, loads-node) and, for scale, HTTPS/1.1 (session-h1, loads-https).
// Prints one line per run and a median table.
//   node bench/h2-ceiling.mjs [--duration 6] [--rounds 3] [--connections 50] [--only h2load,bare-node-http2,session-node,session-own,loads-own,loads-node,session-h1,loads-https]
import os from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { option } from './lib/args.mjs'
import { measure } from './lib/measure.mjs'
import { startNginx } from './lib/nginx.mjs'
import { loadAverage } from './lib/scene-table.mjs'

const root = fileURLToPath(new URL('..', import.meta.url))
const seconds = Number(option('--duration', 6))
const rounds = Number(option('--rounds', 3))
const connections = Number(option('--connections', 50))
const only = option('--only', undefined)?.split(',')
const node = process.execPath
const TOOLS = [
  { id: 'h2load', start: (url) => ({ command: 'h2load', args: ['-c', String(connections), '-m', '1', '-D', String(seconds), `${url}/`] }) },
  { id: 'bare-node-http2', start: (url) => ({ command: node, args: [join(root, 'bench/peers/h2-bare.mjs'), `${url}/`, String(connections), String(seconds)] }) },
  { id: 'session-node', start: (url) => ({ command: node, args: [join(root, 'bench/peers/session-loop.mjs'), `${url}/`, String(connections), String(seconds), 'h2'], env: { LOADS_HTTP2: 'node' } }) },
  { id: 'session-own', start: (url) => ({ command: node, args: [join(root, 'bench/peers/session-loop.mjs'), `${url}/`, String(connections), String(seconds), 'h2'], env: { LOADS_HTTP2: 'own' } }) },
  { id: 'loads-own', start: (url) => ({ command: node, args: [join(root, 'bin/loads-runner.js'), join(root, 'bench/loads-case.ts') + ':Bench.test_index', '-u', String(connections), '-d', `${seconds}s`, '-w', '1', '--server-url', url, '--insecure', '-q', '--http2'], env: { LOADS_HTTP2: 'own' } }) },
  { id: 'loads-node', start: (url) => ({ command: node, args: [join(root, 'bin/loads-runner.js'), join(root, 'bench/loads-case.ts') + ':Bench.test_index', '-u', String(connections), '-d', `${seconds}s`, '-w', '1', '--server-url', url, '--insecure', '-q', '--http2'], env: { LOADS_HTTP2: 'node' } }) },
  // HTTPS/1.1 on the same nginx, for scale: Loads' own HTTP/1.1 client over TLS.
  { id: 'session-h1', start: (url) => ({ command: node, args: [join(root, 'bench/peers/session-loop.mjs'), `${url}/`, String(connections), String(seconds), 'h1'] }) },
  { id: 'loads-https', start: (url) => ({ command: node, args: [join(root, 'bin/loads-runner.js'), join(root, 'bench/loads-case.ts') + ':Bench.test_index', '-u', String(connections), '-d', `${seconds}s`, '-w', '1', '--server-url', url, '--insecure', '-q'] }) },
].filter((t) => only === undefined || only.includes(t.id))

const pin = os.availableParallelism() >= 2
const nginx = await startNginx({ core: pin ? 0 : null, tls: true })
const results = new Map(TOOLS.map((t) => [t.id, []]))
process.stderr.write(`nginx ${nginx.tlsUrl}; ${connections} connections, ${seconds} s, ${rounds} rounds; load average ${loadAverage()}\n`)
try {
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? TOOLS : [...TOOLS].reverse()
    for (const tool of order) {
      const load = loadAverage()
      const r = await measure({ ...tool.start(nginx.tlsUrl), cwd: root, core: pin ? 1 : null, timeoutMs: (seconds + 60) * 1000, server: nginx.status })
      const cpuUs = (r.cpuPer100k / 100_000) * 1e6
      results.get(tool.id).push({ reqPerSec: r.reqPerSec, cpuUs })
      const bad = r.code !== 0 ? `  [exit ${r.code ?? r.signal}: ${r.stderr.trim().split('\n').slice(-2).join(' | ')}]` : ''
      process.stderr.write(`round ${round + 1}: ${tool.id.padEnd(16)} ${Math.round(r.reqPerSec).toString().padStart(6)} req/s  ${cpuUs.toFixed(1).padStart(7)} CPU-µs/req  load ${load}${bad}\n`)
    }
  }
} finally {
  await nginx.stop()
}
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2 }
const base = results.get('h2load') ?? []
process.stdout.write(`| tool | req/s (median) | CPU-µs/req (median) | req/s ÷ h2load (per round) |\n| --- | ---: | ---: | --- |\n`)
for (const [id, rs] of results) {
  const ratios = rs.map((r, i) => (base[i] ? (r.reqPerSec / base[i].reqPerSec).toFixed(2) : '–')).join(', ')
  process.stdout.write(`| ${id} | ${Math.round(median(rs.map((r) => r.reqPerSec)))} | ${median(rs.map((r) => r.cpuUs)).toFixed(1)} | ${ratios} |\n`)
}
process.stdout.write(`load average at the end: ${loadAverage()}\n`)
