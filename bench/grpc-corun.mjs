#!/usr/bin/env node
// gRPC CPU per call, Loads against the bare @grpc/grpc-js loop, run AT ONCE: both clients pinned
// to core 1 (50 users / loops each), each against its own grpc-js server on core 0, for the same
// window. A VM's speed changes from minute to minute (the gRPC scene's runs one after the other
// swing ±20%); run side by side, both clients meet the same speed, so the ratio of their CPU per
// call holds better (±4% here). Prints calls, CPU-µs per call (and per thread: the JS thread
// first, then V8's helper threads, which a CPU profile of the JS thread does not show) and
// bare ÷ Loads CPU per call (1.0: Loads costs what the bare loop costs).
//
//   node bench/grpc-corun.mjs [--duration 15] [--skip 5] [--rounds 1] [--case FILE:Class.method]
//        [--users-once]   the case runs once per user (a test that loops by itself)
//        [--bare channel] the bare loop makes its calls on the channel, as Loads does (default: client)
//        [--smoke]        1 round of 4 s (skip 1): checks the harness only
//
// Ratios here are not the scene's req/s ratios (two clients sharing a core also share its caches);
// use it to compare Loads with itself before and after a change.
import { spawn } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { flag, log, option, pinned } from './lib/args.mjs'
import { startGrpcServer } from './lib/grpc-server.mjs'
import { cpuSeconds } from './lib/measure.mjs'

const root = fileURLToPath(new URL('..', import.meta.url))
const smoke = flag('--smoke')
const seconds = Number(option('--duration', smoke ? 4 : 15))
const skip = Number(option('--skip', smoke ? 1 : 5))
const rounds = Number(option('--rounds', 1))
const testCase = option('--case', join(root, 'bench/grpc-case.ts') + ':GrpcBench.test_item')
const usersOnce = flag('--users-once')
const bareWay = option('--bare', 'client')
if (!(seconds > skip + 1) || !(rounds >= 1 && rounds <= 20) || !['client', 'channel'].includes(bareWay)) {
  log('usage: node bench/grpc-corun.mjs [--duration S > skip+1] [--skip S] [--rounds 1..20] [--case FILE:Class.method] [--users-once] [--bare client|channel] [--smoke]')
  process.exit(2)
}

const children = new Set()
const track = (child) => {
  children.add(child)
  child.once('exit', () => children.delete(child))
  return child
}
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL')
})
for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => process.exit(130))

const startServer = async () => {
  const server = await startGrpcServer(0)
  return { target: server.target, count: () => server.count.requests(), stop: server.stop }
}

/** CPU seconds of each thread of `pid`, by thread id. */
function threadSeconds(pid) {
  const out = {}
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'latin1')
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      out[tid] = (Number(f[11]) + Number(f[12])) / 100
    } catch {
      // the thread ended
    }
  }
  return out
}

const perThread = (a, b, calls) =>
  Object.entries(b)
    .map(([tid, s]) => ((s - (a[tid] ?? 0)) * 1e6) / calls)
    .filter((us) => us >= 0.5)
    .sort((x, y) => y - x)
    .map((us) => us.toFixed(0))
    .join(' + ')

const ratios = []
for (let round = 0; round < rounds; round++) {
  const [a, b] = [await startServer(), await startServer()]
  try {
    const runs = usersOnce ? ['-c', '1'] : ['-d', `${seconds}s`]
    const loads = track(spawn(...pinned(1, process.execPath, [join(root, 'bin/loads-runner.js'), testCase, '-u', '50', ...runs, '-w', '1', '-q']), { stdio: ['ignore', 'pipe', 'pipe'], cwd: root, env: { ...process.env, LOADS_BENCH_GRPC: a.target, LOOP_SECONDS: String(seconds - 1) } }))
    const bare = track(spawn(...pinned(1, process.execPath, [join(root, 'bench/peers/grpc-bare.mjs'), b.target, '50', String(seconds), bareWay]), { stdio: ['ignore', 'pipe', 'pipe'], cwd: root }))
    let loadsErr = ''
    loads.stderr.on('data', (d) => (loadsErr += d))
    const ended = Promise.all([loads, bare].map((c) => new Promise((resolve) => c.once('exit', resolve))))
    const sample = async () => ({ a: await a.count(), b: await b.count(), ta: threadSeconds(loads.pid), tb: threadSeconds(bare.pid), ca: cpuSeconds(loads.pid), cb: cpuSeconds(bare.pid) })
    await new Promise((r) => setTimeout(r, skip * 1000))
    const s0 = await sample()
    await new Promise((r) => setTimeout(r, (seconds - skip - 1) * 1000))
    const s1 = await sample().catch(() => undefined)
    const [loadsCode] = await ended
    if (s1 === undefined || s1.ca === undefined || s1.cb === undefined || loadsCode !== 0) {
      log(`round ${round + 1}: a client ended before the window closed (Loads exit ${loadsCode})${loadsErr ? `: ${loadsErr.trim().split('\n').at(-1)}` : ''}`)
      process.exitCode = 1
      continue
    }
    const [callsA, callsB] = [s1.a - s0.a, s1.b - s0.b]
    const usA = ((s1.ca - s0.ca) * 1e6) / callsA
    const usB = ((s1.cb - s0.cb) * 1e6) / callsB
    ratios.push(usB / usA)
    process.stdout.write(
      `round ${round + 1}: Loads ${callsA} calls, ${usA.toFixed(1)} CPU-µs/call (threads ${perThread(s0.ta, s1.ta, callsA)}) · ` +
        `bare ${callsB} calls, ${usB.toFixed(1)} CPU-µs/call (threads ${perThread(s0.tb, s1.tb, callsB)}) · bare ÷ Loads ${(usB / usA).toFixed(3)}\n`,
    )
  } finally {
    a.stop()
    b.stop()
  }
}
if (ratios.length > 0) {
  const sorted = [...ratios].sort((x, y) => x - y)
  process.stdout.write(`bare ÷ Loads CPU per call: ${ratios.map((r) => r.toFixed(3)).join(', ')}; median ${sorted[Math.floor(sorted.length / 2)].toFixed(3)}\n`)
}
