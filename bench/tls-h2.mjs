#!/usr/bin/env node
// The TLS and HTTP/2 scenes of `npm run bench` (issue 20): nginx as in bench/run.mjs (one worker
// pinned to core 0, a 100-byte file, stub_status) with one more port, `listen … ssl http2`
// (self-signed P-256). HTTPS/1.1: wrk, autocannon and Loads; HTTP/2: h2load (`-m 1`, one stream
// per connection at a time) and Loads `--http2`. Each generator on core 1, 50 connections, N s,
// tools alternating round by round; requests counted by nginx. Prints Markdown and writes
// bench/results/tls-h2-<date>.json.
//
//   node bench/tls-h2.mjs [--smoke] [--duration 10] [--rounds 2] [--connections 50] [--only wrk,h2load,…] [--out DIR]
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { flag, log, pinHarnessToServerCore, sceneOptions } from './lib/args.mjs'
import { measure } from './lib/measure.mjs'
import { startNginx } from './lib/nginx.mjs'
import { writeResults } from './lib/results.mjs'
import { formatScene, loadAverage, sceneSummary } from './lib/scene-table.mjs'
import { autocannonBin, describeMachine, ensureTools } from './lib/system.mjs'
import { parseAutocannon, parseLoads, parseWrk, readOwnFigures } from './lib/tools.mjs'

const root = fileURLToPath(new URL('..', import.meta.url))
const { smoke, seconds, rounds, connections, only, outDir } = sceneOptions(root)

/** h2load's summary: `requests: N total, N started, N done, N succeeded, N failed, N errored, N timeout`. */
export function parseH2load(stdout) {
  const m = /requests: (\d+) total, \d+ started, \d+ done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/.exec(stdout)
  if (m === null) throw new Error('no requests line')
  const bad = Number(m[3]) + Number(m[4]) + Number(m[5])
  // h2load gives min / max / mean / sd per request, no percentiles.
  return { claimedRequests: Number(m[2]), p50Ms: null, p99Ms: null, errors: bad > 0 ? `failed=${m[3]} errored=${m[4]} timeout=${m[5]}` : null }
}

const loads = (extra) => ({ url, seconds }) => ({
  command: process.execPath,
  args: [join(root, 'bin/loads-runner.js'), join(root, 'bench/loads-case.ts') + ':Bench.test_index', '-u', String(connections), '-d', `${seconds}s`, '-w', '1', '--server-url', url, '--insecure', '-q', ...extra],
  cwd: root,
})

const TOOLS = [
  { id: 'wrk', label: 'wrk, HTTPS/1.1', needs: ['wrk'], start: ({ url, seconds }) => ({ command: 'wrk', args: ['-t1', `-c${connections}`, `-d${seconds}s`, '--latency', `${url}/`] }), parse: (r) => parseWrk(r.stdout) },
  {
    id: 'autocannon',
    label: 'autocannon, HTTPS/1.1',
    needs: ['autocannon'],
    // autocannon has no flag to accept a self-signed certificate.
    start: ({ url, seconds }) => ({ command: process.execPath, args: [autocannonBin(root), '-c', String(connections), '-d', String(seconds), '-j', `${url}/`], env: { NODE_TLS_REJECT_UNAUTHORIZED: '0' } }),
    parse: (r) => parseAutocannon(r.stdout),
  },
  { id: 'loads-https', label: 'Loads TestCase, HTTPS/1.1', needs: [], start: loads([]), parse: (r) => parseLoads(r.stdout) },
  { id: 'h2load', label: 'h2load, HTTP/2 (-m 1)', needs: ['h2load'], start: ({ url, seconds }) => ({ command: 'h2load', args: ['-c', String(connections), '-m', '1', '-D', String(seconds), `${url}/`] }), parse: (r) => parseH2load(r.stdout) },
  { id: 'loads-h2', label: 'Loads TestCase, --http2', needs: [], start: loads(['--http2']), parse: (r) => parseLoads(r.stdout) },
].filter((t) => only === undefined || only.includes(t.id))

let url
if (import.meta.url === `file://${process.argv[1]}`) await main()

async function main() {
  const missing = flag('--no-install') ? [] : ensureTools(root, log)
  const machine = describeMachine(root)
  const pin = pinHarnessToServerCore()
  const nginx = await startNginx({ core: pin ? 0 : null, tls: true })
  url = nginx.tlsUrl
  log(`TLS / HTTP/2 scene: nginx ${url} (pid ${nginx.pid}); ${connections} connections, ${seconds} s each, ${rounds} round(s); load average ${loadAverage()}`)
  const runs = []
  try {
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? TOOLS : [...TOOLS].reverse()
      for (const tool of order) {
        const absent = tool.needs.filter((n) => missing.includes(n) || (n === 'h2load' && spawnSync('sh', ['-c', 'command -v h2load'], { stdio: 'ignore' }).status !== 0))
        if (absent.length > 0) {
          runs.push({ round, tool: tool.id, skipped: `not installed: ${absent.join(', ')}` })
          continue
        }
        const load = loadAverage()
        const result = await measure({ ...tool.start({ url, seconds }), core: pin ? 1 : null, timeoutMs: (seconds + 60) * 1000, server: nginx.status })
        const { own, problem } = readOwnFigures(tool, result)
        const run = { round, tool: tool.id, reqPerSec: result.reqPerSec, cpuPer100k: result.cpuPer100k, p50Ms: own.p50Ms, p99Ms: own.p99Ms, claimedRequests: own.claimedRequests, serverRequests: result.serverRequests, loadAverage: load, problem }
        runs.push(run)
        log(`round ${round + 1}: ${tool.id.padEnd(12)} ${Math.round(run.reqPerSec).toString().padStart(6)} req/s (nginx), ${Number(run.cpuPer100k).toFixed(2)} CPU-s/100k, load average ${load}${run.problem ? `  [${run.problem}]` : ''}`)
      }
    }
  } finally {
    await nginx.stop()
  }
  const summary = sceneSummary(TOOLS, runs, [
    ['loads-https', 'wrk', 'Loads HTTPS/1.1 ÷ wrk'],
    ['loads-https', 'autocannon', 'Loads HTTPS/1.1 ÷ autocannon'],
    ['loads-h2', 'h2load', 'Loads --http2 ÷ h2load'],
  ])
  const date = new Date()
  const scene = `nginx 1 worker on core 0, \`listen … ssl http2\` (P-256, TLS 1.3), 100-byte file; generators on core 1, ${connections} connections, ${seconds} s, ${rounds} round(s), alternated; counted by nginx. ${machine.cpuModel}, Node ${machine.node}.`
  const table = formatScene(`TLS and HTTP/2 (${date.toISOString().slice(0, 16)}Z)`, scene, summary)
  process.stdout.write(`${table}\n`)
  const file = writeResults({ outDir, prefix: 'tls-h2-', date, smoke }, { date: date.toISOString(), machine, scene, summary, runs, table })
  log(`written: ${file}`)
}
