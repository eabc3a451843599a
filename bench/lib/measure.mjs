// Runs one load generator pinned to one core while sampling, every 100 ms, nginx's request
// counter and the generator's CPU time from /proc. The figures come from the steady part of
// the run (between the first and the last sample that saw requests arrive), so a tool's start-up
// (Python imports, bundling) and its final report count for no tool.
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { execFileSync } from 'node:child_process'
import { pinned } from './args.mjs'

const SAMPLE_MS = 100
let clockTicks

function ticksPerSecond() {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100
    } catch {
      clockTicks = 100
    }
  }
  return clockTicks
}

/** CPU seconds used so far by `pid` (all its threads) and the children it has waited for. */
export function cpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1')
    // The command name (field 2) may hold spaces; the fields after its ')' are fixed.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    // utime, stime, cutime, cstime are fields 14–17, i.e. 11–14 after the name.
    const ticks = Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])
    return ticks / ticksPerSecond()
  } catch {
    return undefined
  }
}

/** CPU seconds the whole machine has spent busy so far (all cores; /proc/stat, idle and iowait left out). */
export function machineBusySeconds() {
  try {
    const f = readFileSync('/proc/stat', 'latin1').split('\n')[0].trim().split(/\s+/).slice(1).map(Number)
    const total = f.reduce((a, b) => a + b, 0)
    return (total - f[3] - f[4]) / ticksPerSecond()
  } catch {
    return undefined
  }
}

/** Resident set size of `pid` in bytes (VmRSS), or undefined once it is gone. */
export function rssBytes(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'latin1')
    const m = /VmRSS:\s+(\d+) kB/.exec(status)
    return m === null ? undefined : Number(m[1]) * 1024
  } catch {
    return undefined
  }
}

/**
 * Spawns `command args` under `taskset -c core` (the same pid: taskset execs it), waits for it
 * to end (killed after `timeoutMs`), and returns its output with the server-side figures.
 * @param {{ command: string, args: string[], core?: number|null, env?: object, cwd?: string,
 *           timeoutMs: number, server: { requests(): Promise<number> } }} options
 */
export async function measure({ command, args, core = 1, env, cwd, timeoutMs, server }) {
  const before = await server.requests()
  const run = launch({ command, args, env, cwd }, core, timeoutMs)
  const samples = []
  const t0 = performance.now()
  while (!run.done) {
    const cpu = cpuSeconds(run.child.pid)
    const requests = await server.requests()
    const rss = rssBytes(run.child.pid)
    if (!run.done && cpu !== undefined) samples.push({ t: (performance.now() - t0) / 1000, requests: requests - before, cpu, rss: rss ?? 0 })
    await Promise.race([run.exited, new Promise((r) => setTimeout(r, SAMPLE_MS))])
  }
  const { code, signal } = await run.ended()
  const total = (await server.requests()) - before
  return { code, signal, stdout: run.stdout, stderr: run.stderr, serverRequests: total, ...steady(samples), peakRssBytes: Math.max(0, ...samples.map((s) => s.rss)) }
}

/**
 * Spawns `command args` pinned to `core` (taskset execs it: the pid is the command's), collecting
 * its output; it is killed after `timeoutMs`. `done` turns true when it exits; `ended()` waits for
 * that and clears the kill timer.
 */
function launch({ command, args, env, cwd }, core, timeoutMs) {
  const child = spawn(...pinned(core, command, args), { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env }, cwd })
  const run = { child, stdout: '', stderr: '', done: false }
  child.stdout.setEncoding('utf8').on('data', (d) => (run.stdout += d))
  child.stderr.setEncoding('utf8').on('data', (d) => (run.stderr += d))
  run.exited = new Promise((resolve) => child.once('exit', (code, signal) => { run.done = true; resolve({ code, signal }) }))
  const killer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
  run.ended = async () => {
    const end = await run.exited
    clearTimeout(killer)
    return end
  }
  return run
}

/**
 * Rate and CPU cost between the first and last samples taken while requests were arriving
 * (both edges excluded: they hold start-up and shut-down).
 */
export function steady(samples) {
  let first = -1
  let last = -1
  for (let i = 1; i < samples.length; i++) {
    if (samples[i].requests > samples[i - 1].requests) {
      if (first === -1) first = i
      last = i - 1
    }
  }
  // first: the first sample after requests began; last: the last sample before they stopped.
  if (first === -1 || last <= first) return { steadySeconds: 0, steadyRequests: 0, reqPerSec: 0, cpuSeconds: 0, cpuPer100k: NaN }
  const a = samples[first]
  const b = samples[last]
  const requests = b.requests - a.requests
  const seconds = b.t - a.t
  const cpu = b.cpu - a.cpu
  return {
    steadySeconds: seconds,
    steadyRequests: requests,
    reqPerSec: requests / seconds,
    cpuSeconds: cpu,
    cpuPer100k: requests > 0 ? (cpu / requests) * 100_000 : NaN,
    cpuUtilisation: cpu / seconds,
  }
}

/**
 * Runs several generators at once, each pinned to `core` against its own server, sampling every
 * 100 ms each one's CPU time and its server's count. The figures of all come from one window:
 * from the first sample at which every generator's server saw requests arrive to the last
 * sample before any of them stopped. Side by side on one core, a machine whose speed swings
 * between minutes (this 2-core VM: ±20%) moves every generator alike, so their CPU per request
 * compares to within ~1% (old against old: 1.001–1.007), where runs one after the other compare
 * to within ~8%.
 * @param {{ [name: string]: { command: string, args: string[], env?: object, cwd?: string, server: { requests(): Promise<number> } } }} specs
 * @param {{ core?: number|null, timeoutMs: number }} options
 * @returns {Promise<{ windowSeconds: number, sides: { [name: string]: { code, signal, stdout, stderr, serverRequests, requests, cpuSeconds, reqPerSec, cpuPer100k } } }>}
 */
export async function measureTogether(specs, { core = 1, timeoutMs }) {
  const names = Object.keys(specs)
  const before = {}
  for (const name of names) before[name] = await specs[name].server.requests()
  const runs = {}
  for (const name of names) runs[name] = launch(specs[name], core, timeoutMs)
  const samples = []
  const t0 = performance.now()
  const allExited = Promise.all(names.map((n) => runs[n].exited))
  while (names.every((n) => !runs[n].done)) {
    const sample = { t: (performance.now() - t0) / 1000 }
    for (const name of names) {
      sample[name] = { cpu: cpuSeconds(runs[name].child.pid), requests: (await specs[name].server.requests()) - before[name] }
    }
    if (names.every((n) => !runs[n].done && sample[n].cpu !== undefined)) samples.push(sample)
    await Promise.race([...names.map((n) => runs[n].exited), new Promise((r) => setTimeout(r, SAMPLE_MS))])
  }
  await allExited
  // The shared window: every server's count rose into its first sample and out of its last.
  const rising = (i) => names.every((n) => samples[i][n].requests > samples[i - 1][n].requests)
  let first = -1
  let last = -1
  for (let i = 1; i < samples.length; i++) {
    if (rising(i)) {
      if (first === -1) first = i
      last = i - 1
    }
  }
  const sides = {}
  const windowSeconds = first === -1 || last <= first ? 0 : samples[last].t - samples[first].t
  for (const name of names) {
    const run = runs[name]
    const { code, signal } = await run.ended()
    const serverRequests = (await specs[name].server.requests()) - before[name]
    const figures = { code, signal, stdout: run.stdout, stderr: run.stderr, serverRequests, requests: 0, cpuSeconds: 0, reqPerSec: 0, cpuPer100k: NaN }
    if (windowSeconds > 0) {
      figures.requests = samples[last][name].requests - samples[first][name].requests
      figures.cpuSeconds = samples[last][name].cpu - samples[first][name].cpu
      figures.reqPerSec = figures.requests / windowSeconds
      figures.cpuPer100k = figures.requests > 0 ? (figures.cpuSeconds / figures.requests) * 100_000 : NaN
    }
    sides[name] = figures
  }
  return { windowSeconds, sides }
}
