#!/usr/bin/env node
// Long-run memory: Loads (50 users, 1 worker) against pinned nginx for 10 minutes, sampling the
// process's RSS every second. After warm-up (the first 10% of the run, at least 5 s) RSS must never
// exceed its value at the end of warm-up by more than 10% (falling is fine: the GC gives memory
// back), and the trend of RSS against hits is printed: memory does not grow with hits.
//
//   node bench/soak.mjs                    10 minutes
//   node bench/soak.mjs --duration 120     2 minutes
//   node bench/soak.mjs --smoke            5 seconds (the shape of the report only)
import { spawn } from 'node:child_process'
import os from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { rssBytes } from './lib/measure.mjs'
import { startNginx } from './lib/nginx.mjs'
import { describeMachine } from './lib/system.mjs'
import { parseLoads } from './lib/tools.mjs'
import { flag, log, option, pinned } from './lib/args.mjs'
import { writeResults } from './lib/results.mjs'

const root = fileURLToPath(new URL('..', import.meta.url))
const value = option
const smoke = flag('--smoke')
const seconds = Number(value('--duration', smoke ? 5 : 600))
const users = Number(value('--users', 50))
const warmupSeconds = Number(value('--warmup', Math.max(smoke ? 2 : 5, Math.round(seconds / 10))))
const pin = os.availableParallelism() >= 2

const machine = describeMachine(root)
const nginx = await startNginx({ core: pin ? 0 : null })
const samples = []
let run
try {
  log(`soak: ${users} users, 1 worker, ${seconds} s against ${nginx.url}; warm-up ${warmupSeconds} s`)
  const args = [join(root, 'bin/loads-runner.js'), join(root, 'bench/loads-case.ts') + ':Bench.test_index', '-u', String(users), '-d', `${seconds}s`, '-w', '1', '--server-url', nginx.url, '-q']
  const child = spawn(...pinned(pin ? 1 : null, process.execPath, args), { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d))
  child.stderr.setEncoding('utf8').on('data', (d) => (stdout += d))
  const killer = setTimeout(() => child.kill('SIGKILL'), (seconds + 60) * 1000)
  let code
  const exited = new Promise((resolve) => child.once('exit', (c) => resolve((code = c))))
  const t0 = performance.now()
  while (code === undefined) {
    const rss = rssBytes(child.pid)
    const requests = await nginx.status.requests()
    if (rss !== undefined && code === undefined) samples.push({ t: Math.round(performance.now() - t0) / 1000, rssMB: Math.round((rss / 2 ** 20) * 10) / 10, requests })
    await Promise.race([exited, new Promise((r) => setTimeout(r, 1000))])
  }
  clearTimeout(killer)
  run = { code, loads: parseLoads(stdout) }
} finally {
  await nginx.stop()
}

// The load phase only: from warm-up's end to the last sample that still saw requests.
const last = samples.findLastIndex((s, i) => i > 0 && s.requests > samples[i - 1].requests)
const steady = samples.filter((s, i) => s.t >= warmupSeconds && i <= last)
const base = steady[0]?.rssMB ?? NaN
const max = Math.max(...steady.map((s) => s.rssMB))
const min = Math.min(...steady.map((s) => s.rssMB))
const end = steady.at(-1)?.rssMB ?? NaN
const growth = (max - base) / base
const flat = steady.length > 0 && growth <= 0.1
// Least-squares slope of RSS against hits, in MB per million hits (≈ 0 when nothing accumulates).
const slope = (() => {
  const n = steady.length
  if (n < 2) return NaN
  const mx = steady.reduce((a, s) => a + s.requests, 0) / n
  const my = steady.reduce((a, s) => a + s.rssMB, 0) / n
  let sxy = 0
  let sxx = 0
  for (const s of steady) {
    sxy += (s.requests - mx) * (s.rssMB - my)
    sxx += (s.requests - mx) ** 2
  }
  return sxx === 0 ? NaN : (sxy / sxx) * 1e6
})()
const hits = run.loads.claimedRequests ?? 0
const table = [
  `Soak, ${machine.cpuModel}, ${machine.cores} cores, Node ${machine.node}: ${users} users, 1 worker, ${seconds} s against nginx; RSS sampled every second`,
  '',
  '| hits | RSS after warm-up MB | min MB | max MB | at the end MB | max growth | trend MB per 1M hits | never 10% above warm-up |',
  '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  `| ${hits} | ${base} | ${min} | ${max} | ${end} | ${(growth * 100).toFixed(1)}% | ${slope.toFixed(2)} | ${smoke ? '(smoke: not judged)' : flat ? 'yes' : 'NO'} |`,
].join('\n')
process.stdout.write(`${table}\n`)
const outDir = value('--out', join(root, 'bench/results'))
const date = new Date()
const file = writeResults({ outDir, prefix: 'soak-', date, smoke }, { date: date.toISOString(), machine, users, seconds, warmupSeconds, exitCode: run.code, hits, rss: { base, min, max, end, growth, mbPerMillionHits: slope, flat }, samples, table })
log(`written: ${file}`)
