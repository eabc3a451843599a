#!/usr/bin/env node
// The gRPC scene of `npm run bench` (issue 20): a @grpc/grpc-js server pinned to core 0; on core
// 1, Loads (a TestCase making one unary call and one assertion per run, 50 users, 1 worker), a
// bare @grpc/grpc-js client loop (50 loops, a client each) and the same loop making its calls on
// the channel, as Loads does (bench/peers/grpc-bare.mjs), alternating round by round; calls
// counted by the server. Prints Markdown (Loads ÷ each loop in each round) and writes
// bench/results/grpc-<date>.json.
//
//   node bench/grpc.mjs [--smoke] [--duration 10] [--rounds 2] [--connections 50] [--out DIR]
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { log, pinHarnessToServerCore, sceneOptions } from './lib/args.mjs'
import { startGrpcServer } from './lib/grpc-server.mjs'
import { measure } from './lib/measure.mjs'
import { writeResults } from './lib/results.mjs'
import { formatScene, loadAverage, sceneSummary } from './lib/scene-table.mjs'
import { describeMachine } from './lib/system.mjs'
import { parseLoads, parseUndiciPool, readOwnFigures } from './lib/tools.mjs'

const root = fileURLToPath(new URL('..', import.meta.url))
// One user per connection, as the other scenes' --connections.
const { smoke, seconds, rounds, connections: users, outDir } = sceneOptions(root)

const TOOLS = [
  {
    id: 'loads-grpc',
    label: 'Loads TestCase, gRPC unary (1 worker)',
    start: (target) => ({
      command: process.execPath,
      args: [join(root, 'bin/loads-runner.js'), join(root, 'bench/grpc-case.ts') + ':GrpcBench.test_item', '-u', String(users), '-d', `${seconds}s`, '-w', '1', '-q'],
      cwd: root,
      env: { LOADS_BENCH_GRPC: target },
    }),
    parse: (r) => parseLoads(r.stdout),
  },
  {
    id: 'grpc-bare',
    label: 'bare @grpc/grpc-js loop',
    start: (target) => ({ command: process.execPath, args: [join(root, 'bench/peers/grpc-bare.mjs'), target, String(users), String(seconds)], cwd: root }),
    parse: (r) => parseUndiciPool(r.stdout),
  },
  {
    id: 'grpc-channel',
    label: 'bare @grpc/grpc-js loop, calls on the channel',
    start: (target) => ({ command: process.execPath, args: [join(root, 'bench/peers/grpc-bare.mjs'), target, String(users), String(seconds), 'channel'], cwd: root }),
    parse: (r) => parseUndiciPool(r.stdout),
  },
]

const machine = describeMachine(root)
const pin = pinHarnessToServerCore()
/*
 * A fresh server for each run: one kept for all rounds served later runs more slowly than
 * earlier ones (its heap grew; 2026-12-02 rates drifted by a quarter over 3 rounds), which
 * favoured whichever client ran first.
 */
const startServer = () => startGrpcServer(pin ? 0 : null)

log(`gRPC scene: a grpc-js server${pin ? ' on core 0' : ''}, a fresh one for each run; ${users} users, ${seconds} s each, ${rounds} round(s); load average ${loadAverage()}`)
const runs = []
for (let round = 0; round < rounds; round++) {
  const order = round % 2 === 0 ? TOOLS : [...TOOLS].reverse()
  for (const tool of order) {
    const server = await startServer()
    try {
      const load = loadAverage()
      const result = await measure({ ...tool.start(server.target), core: pin ? 1 : null, timeoutMs: (seconds + 60) * 1000, server: server.count })
      const { own, problem } = readOwnFigures(tool, result)
      const run = { round, tool: tool.id, reqPerSec: result.reqPerSec, cpuPer100k: result.cpuPer100k, p50Ms: own.p50Ms, p99Ms: own.p99Ms, claimedRequests: own.claimedRequests, serverRequests: result.serverRequests, loadAverage: load, problem }
      runs.push(run)
      log(`round ${round + 1}: ${tool.id.padEnd(12)} ${Math.round(run.reqPerSec).toString().padStart(6)} calls/s (server), ${Number(run.cpuPer100k).toFixed(2)} CPU-s/100k, load average ${load}${run.problem ? `  [${run.problem}]` : ''}`)
    } finally {
      server.stop()
    }
  }
}
const summary = sceneSummary(TOOLS, runs, [
  ['loads-grpc', 'grpc-bare', 'Loads ÷ bare grpc-js loop'],
  ['loads-grpc', 'grpc-channel', 'Loads ÷ bare loop on the channel'],
])
const date = new Date()
const scene = `@grpc/grpc-js server on core 0, a fresh one for each run (unary GetItem, small messages); clients on core 1, ${users} users / loops each with its own connection, ${seconds} s, ${rounds} round(s), alternated; calls counted by the server. ${machine.cpuModel}, Node ${machine.node}. req/s = calls/s.`
const table = formatScene(`gRPC (${date.toISOString().slice(0, 16)}Z)`, scene, summary)
process.stdout.write(`${table}\n`)
const file = writeResults({ outDir, prefix: 'grpc-', date, smoke }, { date: date.toISOString(), machine, scene, summary, runs, table })
log(`written: ${file}`)
