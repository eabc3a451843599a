#!/usr/bin/env node
// Accuracy: Loads against a server that answers after exactly 50 ms, at ~2,000 req/s (100 users,
// one worker, 20 s). Targets (issue 7): reported p50 within ±1 ms of 50 ms, p99 ≤ 53 ms. wrk runs
// the same scene first (when installed): what a C client sees here tells the machine's share.
//
// The server is bench/peers/delay-server.c, compiled here with the machine's C compiler: it
// answers 50 ms after the kernel's receive timestamp of each request, polling its core so it is
// never late waking up, and measures itself (its figures are in the table, and how late its
// answers were). Without a C compiler the Node server (delay-server.mjs) stands in, said so:
// that one is not exact (its own p99 was 52-54 ms here). The server's request count must equal
// Loads' hits. The table also says how much CPU other processes used meanwhile: on a shared
// machine a run is only as good as it was quiet.
//
//   node bench/accuracy.mjs                 100 users, 20 s
//   node bench/accuracy.mjs --smoke         20 users, 2 s (counts only; timings not judged)
//   node bench/accuracy.mjs --strict        exit 1 when a target is missed
//   node bench/accuracy.mjs --node-server   the Node server, even with a C compiler
import { spawn, spawnSync } from 'node:child_process'
import os from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { flag, log, option, pinned } from './lib/args.mjs'
import { writeResults } from './lib/results.mjs'
import { startDelayServer } from './lib/delay-server.mjs'
import { cpuSeconds, machineBusySeconds } from './lib/measure.mjs'
import { describeMachine } from './lib/system.mjs'
import { parseLoads, parseWrk } from './lib/tools.mjs'

const root = fileURLToPath(new URL('..', import.meta.url))
const value = option
const smoke = flag('--smoke')
const users = Number(value('--users', smoke ? 20 : 100))
const seconds = Number(value('--duration', smoke ? 2 : 20))
const delayMs = Number(value('--delay', 50))
const pin = os.availableParallelism() >= 2

const machine = describeMachine(root)
const server = await startDelayServer({ delayMs, core: pin ? 0 : null, forceNode: flag('--node-server'), log })
const url = server.url
log(`delay server ${url} (${delayMs} ms${pin ? ', core 0' : ''}): ${server.note}`)
log(`Loads: ${users} users, 1 worker${pin ? ' on core 1' : ''}, ${seconds} s`)

let reference = null
let result
try {
  try {
    if (!smoke && spawnSyncOk('wrk')) {
      const wrk = await phase(() => runPinned('wrk', ['-t1', `-c${users}`, `-d${Math.min(seconds, 10)}s`, '--latency', `${url}/`]))
      const own = parseWrk(wrk.stdout)
      reference = { p50Ms: own.p50Ms, p99Ms: own.p99Ms, requests: own.claimedRequests, server: serverFigures(wrk.served), othersCpuPct: wrk.othersCpuPct }
    }
  } catch (err) {
    log(`wrk reference skipped: ${err.message}`)
  }

  const loadsArgs = [join(root, 'bin/loads-runner.js'), join(root, 'bench/loads-case.ts') + ':Bench.test_index', '-u', String(users), '-d', `${seconds}s`, '-w', '1', '--server-url', url, '-q']
  const run = await phase(() => runPinned(process.execPath, loadsArgs))
  const loads = parseLoads(run.stdout)
  const duration = Number(/Duration:\s*([\d.]+) s/.exec(run.stdout)?.[1] ?? seconds)
  const targets = { p50: Math.abs(loads.p50Ms - delayMs) <= 1, p99: loads.p99Ms <= delayMs + 3 }
  result = {
    users,
    seconds,
    delayMs,
    serverKind: server.kind,
    serverNote: server.note,
    exitCode: run.code,
    hits: loads.claimedRequests,
    serverRequests: run.served.requests,
    hitsPerSec: Math.round(loads.claimedRequests / duration),
    loads: { p50Ms: loads.p50Ms, p99Ms: loads.p99Ms, maxMs: Number(/max ([\d.]+)/.exec(run.stdout)?.[1] ?? NaN) },
    server: serverFigures(run.served),
    othersCpuPct: run.othersCpuPct,
    problems: loads.errors,
    targets: smoke ? null : targets,
    wrk: reference,
  }
} finally {
  server.stop()
}

const verdict = (ok) => (ok ? 'yes' : 'NO')
const late = (s) => (s.lateUs === undefined ? '' : `; its answers were late by ${s.lateUs.p50} µs at p50, ${s.lateUs.p99} µs at p99, ${(s.lateUs.max / 1000).toFixed(1)} ms at most`)
const table = [
  `Accuracy, ${machine.cpuModel}, ${machine.cores} cores, Node ${machine.node}: a server answering after ${delayMs} ms (${server.kind === 'c' ? 'C' : 'Node, not exact'}), ${users} users, 1 worker, ${seconds} s`,
  '',
  '| | p50 ms | p99 ms | max ms | requests |',
  '| --- | ---: | ---: | ---: | ---: |',
  `| reported by Loads | ${result.loads.p50Ms} | ${result.loads.p99Ms} | ${result.loads.maxMs} | ${result.hits} hits (${result.hitsPerSec}/s) |`,
  `| measured by the server | ${result.server.p50Ms} | ${result.server.p99Ms} | ${result.server.maxMs} | ${result.serverRequests} |`,
  ...(reference === null
    ? []
    : [
        `| wrk in the same scene (C client, for reference) | ${reference.p50Ms} | ${reference.p99Ms} | – | ${reference.requests} |`,
        `| measured by the server during wrk | ${reference.server.p50Ms} | ${reference.server.p99Ms} | ${reference.server.maxMs} | ${reference.server.requests} |`,
      ]),
  ...(smoke ? [] : ['', `p50 within ±1 ms of ${delayMs}: ${verdict(result.targets.p50)}; p99 ≤ ${delayMs + 3} ms: ${verdict(result.targets.p99)}; hits = server's count: ${verdict(result.hits === result.serverRequests)}`]),
  '',
  `Server: ${server.note}${late(result.server)}.`,
  `Other processes used ${result.othersCpuPct}% of a core during the Loads run${reference === null ? '' : ` (${reference.othersCpuPct}% during wrk's)`}.`,
].join('\n')
process.stdout.write(`${table}\n`)
const outDir = value('--out', join(root, 'bench/results'))
const date = new Date()
const file = writeResults({ outDir, prefix: 'accuracy-', date, smoke }, { date: date.toISOString(), machine, result, table })
log(`written: ${file}`)
if (flag('--strict') && result.targets !== null && !(result.targets.p50 && result.targets.p99)) process.exitCode = 1

function spawnSyncOk(bin) {
  return spawnSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' }).status === 0
}

/** The server's figures as the table and the JSON show them. */
function serverFigures(s) {
  return {
    p50Ms: s.p50Ms,
    p99Ms: s.p99Ms,
    maxMs: s.maxMs,
    requests: s.requests,
    ...(s.lateUs === undefined ? {} : { lateUs: s.lateUs, readLagUs: s.readLagUs }),
  }
}

/**
 * One client's run against a freshly reset server: its output, the server's own figures, and
 * the CPU other processes took meanwhile (% of one core): machine-wide busy time less the
 * server's and the client's.
 */
async function phase(start) {
  await server.reset()
  const busy0 = machineBusySeconds()
  const server0 = cpuSeconds(server.pid)
  const t0 = performance.now()
  const run = await start()
  const wallSeconds = (performance.now() - t0) / 1000
  const others = machineBusySeconds() - busy0 - (cpuSeconds(server.pid) - server0) - run.cpuSeconds
  const served = await server.stats()
  return { ...run, served, othersCpuPct: Math.max(0, Math.round((others / wallSeconds) * 100)) }
}

/** Runs `command` pinned to core 1 (when there are two); its CPU time is sampled until it exits. */
function runPinned(command, args) {
  return new Promise((resolve) => {
    const child = spawn(...pinned(pin ? 1 : null, command, args), { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d))
    child.stderr.setEncoding('utf8').on('data', (d) => (stdout += d))
    // taskset execs the command: the pid is the client's. Its last sample stands for its total.
    let cpu = 0
    const sampler = setInterval(() => (cpu = cpuSeconds(child.pid) ?? cpu), 200)
    const killer = setTimeout(() => child.kill('SIGKILL'), (seconds + 60) * 1000)
    child.once('exit', (code) => {
      clearTimeout(killer)
      clearInterval(sampler)
      resolve({ code, stdout, cpuSeconds: cpu })
    })
  })
}
