#!/usr/bin/env node
// Where Loads' CPU per request goes, layer by layer (issue 20). Two clients at a time on core 1,
// each against its own nginx (one worker on core 0, the bench's 100-byte file), 50 connections —
// bare beside session, then session beside loads:
//
//   bare     bench/peers/bare-loop.mjs: net/tls sockets, one GET per answer, the body checked
//   session  bench/peers/session-loop.mjs: Loads' Session (parser, timing, deadlines, the quiet
//            turn before a connection is reused), no runner
//   loads    loads-runner with the bench's TestCase (one GET, one assertion per run): the runner,
//            the recorder, the watchdog's bound on every run
//
// Side by side, a minute in which the VM runs slower slows both alike (bench/ab.mjs --corun: a
// build against itself 1.00 ± 0.01), so the ratio of their CPU per request says what a layer
// costs; Loads ÷ bare is the product of the two. (Pairs, not all three at once: three processes
// on one core switch among themselves more, and that costs the one with more threads and the
// larger heap more — Loads ÷ Session read 1.24–1.30 three at a time, 1.09–1.10 in pairs.)
// Prints a Markdown table per round and the medians; writes bench/results/layers-<date>.json.
//
//   node bench/layers.mjs [--plain] [--rounds 3] [--duration 12] [--smoke] [--out DIR]
//   (HTTPS/1.1 by default; --plain: HTTP/1.1)
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { flag, log, pinHarnessToServerCore, sceneOptions } from './lib/args.mjs'
import { measureTogether } from './lib/measure.mjs'
import { startNginx } from './lib/nginx.mjs'
import { writeResults } from './lib/results.mjs'
import { fixed, median } from './lib/table.mjs'
import { describeMachine } from './lib/system.mjs'
import { parseLoads } from './lib/tools.mjs'

const root = fileURLToPath(new URL('..', import.meta.url))
const { smoke, seconds, rounds, connections, outDir } = sceneOptions(root)
const plain = flag('--plain')
const LAYERS = ['bare', 'session', 'loads']

if (!(rounds >= 1 && rounds <= 20) || !(seconds >= 2 && seconds <= 120)) {
  log('usage: node bench/layers.mjs [--plain] [--rounds 1..20] [--duration 2..120] [--smoke] [--out DIR]')
  process.exit(2)
}

const machine = describeMachine(root)
const pin = pinHarnessToServerCore()
const servers = {}
for (const layer of LAYERS) servers[layer] = await startNginx({ core: pin ? 0 : null, tls: true })
const urlOf = (layer) => (plain ? servers[layer].url : servers[layer].tlsUrl)
// The loops start in ~0.1 s, Loads (bundling the TestCase, starting a worker) in ~1 s and more
// on a busy machine: the loops run longer, so that a pair always shares Loads' whole run.
const LOOP_EXTRA_S = 5
const commands = {
  bare: () => [join(root, 'bench/peers/bare-loop.mjs'), urlOf('bare'), String(connections), String(seconds + LOOP_EXTRA_S)],
  session: () => [join(root, 'bench/peers/session-loop.mjs'), `${urlOf('session')}/`, String(connections), String(seconds + LOOP_EXTRA_S)],
  loads: () => [join(root, 'bin/loads-runner.js'), join(root, 'bench/loads-case.ts') + ':Bench.test_index', '-u', String(connections), '-d', `${seconds}s`, '-w', '1', '--server-url', urlOf('loads'), '--insecure', '-q'],
}
const proto = plain ? 'HTTP/1.1' : 'HTTPS/1.1 (TLS 1.3)'
log(`layers, ${proto}: bare loop beside the Session, then the Session beside Loads, on core ${pin ? 1 : 'any'}, each against its own nginx; ${connections} connections, ${seconds} s, ${rounds} round(s)`)

const runs = []
let failed = false
try {
  for (let round = 0; round < rounds; round++) {
    const run = { round: round + 1 }
    // The session's figure of each pair goes with its partner: a ratio is taken within one window.
    for (const [lower, upper] of [['bare', 'session'], ['session', 'loads']]) {
      const specs = {}
      for (const layer of [lower, upper]) specs[layer] = { command: process.execPath, args: commands[layer](), cwd: root, server: servers[layer].status }
      const together = await measureTogether(specs, { core: pin ? 1 : null, timeoutMs: (seconds + LOOP_EXTRA_S + 60) * 1000 })
      const pair = { windowSeconds: together.windowSeconds }
      for (const layer of [lower, upper]) {
        const side = together.sides[layer]
        const problem =
          side.code !== 0 ? `exit ${side.code ?? side.signal}: ${side.stderr.trim().split('\n').slice(-1)[0] ?? ''}`
          : together.windowSeconds === 0 ? 'no shared window: the two never made requests at the same time'
          : layer === 'loads' ? parseLoads(side.stdout).errors
          : null
        pair[layer] = { cpuUsPerRequest: (side.cpuPer100k * 1e6) / 1e5, reqPerSec: side.reqPerSec, serverRequests: side.serverRequests, problem }
        if (problem !== null || !(side.cpuPer100k > 0)) failed = true
      }
      run[`${lower}+${upper}`] = pair
    }
    const low = run['bare+session']
    const high = run['session+loads']
    run.sessionOverBare = low.session.cpuUsPerRequest / low.bare.cpuUsPerRequest
    run.loadsOverSession = high.loads.cpuUsPerRequest / high.session.cpuUsPerRequest
    run.loadsOverBare = run.sessionOverBare * run.loadsOverSession
    runs.push(run)
    log(`round ${run.round}: CPU-µs per request bare ${low.bare.cpuUsPerRequest.toFixed(2)} beside Session ${low.session.cpuUsPerRequest.toFixed(2)}; Session ${high.session.cpuUsPerRequest.toFixed(2)} beside Loads ${high.loads.cpuUsPerRequest.toFixed(2)} · Session ÷ bare ${run.sessionOverBare.toFixed(3)}, Loads ÷ Session ${run.loadsOverSession.toFixed(3)}, Loads ÷ bare ${run.loadsOverBare.toFixed(3)}`)
  }
} finally {
  await Promise.all(LAYERS.map((layer) => servers[layer].stop()))
}

const summary = { sessionOverBare: median(runs.map((r) => r.sessionOverBare)), loadsOverSession: median(runs.map((r) => r.loadsOverSession)), loadsOverBare: median(runs.map((r) => r.loadsOverBare)) }
const date = new Date()
const lines = [
  `Layers, ${proto} (${date.toISOString().slice(0, 16)}Z): two clients at a time on one core (bare beside Session, Session beside Loads), each against its own nginx (1 worker, core 0, 100-byte file); ${connections} connections, ${seconds} s, ${rounds} round(s). ${machine.cpuModel}, Node ${machine.node}.`,
  '',
  '| round | bare · Session CPU-µs / req (together) | Session · Loads CPU-µs / req (together) | Session ÷ bare | Loads ÷ Session | Loads ÷ bare |',
  '| ---: | ---: | ---: | ---: | ---: | ---: |',
  ...runs.map((r) => `| ${r.round} | ${fixed(r['bare+session'].bare.cpuUsPerRequest, 2)} · ${fixed(r['bare+session'].session.cpuUsPerRequest, 2)} | ${fixed(r['session+loads'].session.cpuUsPerRequest, 2)} · ${fixed(r['session+loads'].loads.cpuUsPerRequest, 2)} | ${fixed(r.sessionOverBare, 3)} | ${fixed(r.loadsOverSession, 3)} | ${fixed(r.loadsOverBare, 3)} |`),
  '',
  `medians: Session ÷ bare ${fixed(summary.sessionOverBare, 3)}, Loads ÷ Session ${fixed(summary.loadsOverSession, 3)}, Loads ÷ bare ${fixed(summary.loadsOverBare, 3)}`,
]
for (const r of runs) {
  for (const key of ['bare+session', 'session+loads']) {
    for (const [layer, side] of Object.entries(r[key])) if (side?.problem) lines.push(`round ${r.round}, ${layer} (${key}): ${side.problem}`)
  }
}
const table = lines.join('\n')
process.stdout.write(`${table}\n`)
const file = writeResults({ outDir, prefix: 'layers-', date, smoke }, { date: date.toISOString(), machine, scene: { protocol: proto, connections, seconds, rounds }, runs, summary, table })
log(`written: ${file}`)
process.exitCode = failed ? 1 : 0
