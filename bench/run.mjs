#!/usr/bin/env node
// `npm run bench`: Loads side by side with wrk, autocannon, a bare undici Pool loop and Locust
// (HttpUser and FastHttpUser), in the scene of issue 7: nginx with one worker pinned to core 0
// (access_log off, a 100-byte file, keepalive_requests 1000000, stub_status), each generator
// pinned to core 1, 50 connections, 10 s per tool, tools alternating over rounds. Requests are
// counted by nginx; CPU by /proc. Prints a Markdown table and writes bench/results/<date>.json.
//
//   npm run bench                      2 rounds × 6 tools × 10 s (about 2.5 minutes)
//   npm run bench -- --rounds 3 --duration 10 --only wrk,autocannon,loads
//   npm run bench -- --smoke           1 round × 2 s, no targets: checks the harness works
//   npm run bench -- --scene tls,grpc  only the TLS / HTTP/2 scene (bench/tls-h2.mjs) and the gRPC
//                                      scene (bench/grpc.mjs); the default runs http,tls,grpc,probe
//                                      (probe: what the generator-health probe costs a worker,
//                                      bench/generator-probe.mjs)
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { flag, log, option, pinHarnessToServerCore, sceneOptions } from './lib/args.mjs'
import { cpuSeconds, measure } from './lib/measure.mjs'
import { startNginx } from './lib/nginx.mjs'
import { writeResults } from './lib/results.mjs'
import { describeMachine, ensureTools } from './lib/system.mjs'
import { formatTable, summarize } from './lib/table.mjs'
import { readOwnFigures, TOOLS } from './lib/tools.mjs'

const root = fileURLToPath(new URL('..', import.meta.url))
const value = option
const { smoke, seconds, rounds, connections, only, outDir } = sceneOptions(root)

if (!(seconds > 0 && seconds <= 120) || !(rounds >= 1 && rounds <= 10) || !(connections >= 1 && connections <= 1000)) {
  log('usage: node bench/run.mjs [--smoke] [--duration 1..120] [--rounds 1..10] [--connections N] [--only wrk,autocannon,loads,undici-pool,locust-fast,locust-http] [--out DIR]')
  process.exit(2)
}

// The TLS / HTTP/2 and gRPC scenes run after this one, each in its own script, with the same
// duration, rounds, connections and output folder.
const scenes = value('--scene', 'http,tls,grpc,probe').split(',')
const SCENE_SCRIPTS = { tls: 'bench/tls-h2.mjs', grpc: 'bench/grpc.mjs', probe: 'bench/generator-probe.mjs' }
function runOtherScenes() {
  let failed = 0
  const forwarded = ['--smoke', '--no-install'].filter((f) => flag(f))
  for (const name of ['--duration', '--rounds', '--connections', '--out']) if (value(name, undefined) !== undefined) forwarded.push(name, value(name))
  for (const scene of scenes.filter((s) => s !== 'http')) {
    const script = SCENE_SCRIPTS[scene]
    if (script === undefined) {
      log(`unknown scene '${scene}' (http, tls, grpc, probe)`)
      failed = 2
      continue
    }
    const r = spawnSync(process.execPath, [join(root, script), ...forwarded], { stdio: 'inherit', cwd: root })
    if (r.status !== 0) failed = r.status ?? 1
  }
  return failed
}
if (!scenes.includes('http')) process.exit(runOtherScenes())

const missing = flag('--no-install') ? [] : ensureTools(root, log)
const machine = describeMachine(root)
// The harness only polls nginx (10 times a second): it stays off the generator's core.
const pin = pinHarnessToServerCore()
const serverCore = pin ? 0 : null
const clientCore = pin ? 1 : null

const tools = TOOLS.filter((t) => only === undefined || only.includes(t.id))
log(`machine: ${machine.cpuModel}, ${machine.cores} cores, ${machine.kernel}, Node ${machine.node}, load average ${machine.loadAverageAtStart.join(' ')}`)

const nginx = await startNginx({ core: serverCore })
log(`nginx ${nginx.url} (pid ${nginx.pid}${pin ? ', core 0' : ''}); generators on ${pin ? 'core 1' : 'any core'}; ${connections} connections, ${seconds} s each, ${rounds} round(s)`)
const runs = []
try {
  for (let round = 0; round < rounds; round++) {
    // Alternate the order so no tool always runs first (or right after the same neighbour).
    const order = round % 2 === 0 ? tools : [...tools].reverse()
    for (const tool of order) {
      const absent = tool.needs.filter((n) => missing.includes(n))
      if (absent.length > 0) {
        runs.push({ round, tool: tool.id, label: tool.label, skipped: `not installed: ${absent.join(', ')}` })
        log(`round ${round + 1}: ${tool.id} skipped (not installed: ${absent.join(', ')})`)
        continue
      }
      const command = tool.start({ url: nginx.url, connections, seconds, root })
      // nginx's own CPU per request: a client whose requests cost the server more (more headers,
      // or requests trickling in one by one rather than many per wake-up) gets fewer from its core.
      const nginxWorker = nginx.workerPid()
      const nginxCpuBefore = cpuSeconds(nginxWorker)
      const result = await measure({ ...command, core: clientCore, timeoutMs: (seconds + 60) * 1000, server: nginx.status })
      const nginxCpu = cpuSeconds(nginxWorker) - nginxCpuBefore
      const { own, problem } = readOwnFigures(tool, result)
      const run = {
        round,
        tool: tool.id,
        label: tool.label,
        reqPerSec: result.reqPerSec,
        cpuPer100k: result.cpuPer100k,
        cpuUtilisation: result.cpuUtilisation,
        serverCpuPer100k: result.serverRequests > 0 && Number.isFinite(nginxCpu) ? (nginxCpu / result.serverRequests) * 100_000 : null,
        serverRequests: result.serverRequests,
        steadySeconds: result.steadySeconds,
        claimedRequests: own.claimedRequests,
        p50Ms: own.p50Ms,
        p99Ms: own.p99Ms,
        peakRssMB: result.peakRssBytes / 2 ** 20,
        problem,
      }
      runs.push(run)
      log(`round ${round + 1}: ${tool.id.padEnd(12)} ${Math.round(run.reqPerSec).toString().padStart(6)} req/s (nginx), ${run.cpuPer100k.toFixed(2)} CPU-s/100k, p50 ${run.p50Ms} ms, p99 ${run.p99Ms} ms${run.problem ? `  [${run.problem}]` : ''}`)
    }
  }
} finally {
  await nginx.stop()
}

const summary = summarize(tools, runs)
const date = new Date()
const scene = { server: 'nginx, 1 worker on core 0, access_log off, 100-byte file, keepalive_requests 1000000', generatorCore: clientCore, connections, seconds, rounds, smoke }
const table = formatTable(summary, { date, machine, scene })
process.stdout.write(`${table}\n`)
const file = writeResults({ outDir, prefix: '', date, smoke }, { date: date.toISOString(), machine, scene, summary, runs, table })
log(`written: ${file}`)
process.exitCode = runOtherScenes()
