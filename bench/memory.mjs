#!/usr/bin/env node
// Memory per virtual user: N users, each with its own keep-alive connection and cookie jar (the
// server sets a cookie on every response), each making one request every 5 s (10,000 users:
// 2,000 req/s) against local nginx. Reports the generator's peak RSS and MB per user, with nginx's count of open connections
// to show the users really were all connected at once.
//
//   node bench/memory.mjs                          10,000 users, 1 worker, 30 s, 2,000 req/s
//   node bench/memory.mjs --users 10000,19000      several sizes, one after another
//   node bench/memory.mjs --users 50000 --processes 3
//                                                  beyond one process's file-descriptor limit:
//                                                  3 Loads processes of ~16,700 users each
//   node bench/memory.mjs --smoke                  1,000 users for 6 s
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { cpuSeconds, rssBytes } from './lib/measure.mjs'
import { startNginx } from './lib/nginx.mjs'
import { describeMachine } from './lib/system.mjs'
import { flag, log, option } from './lib/args.mjs'
import { writeResults } from './lib/results.mjs'

const root = fileURLToPath(new URL('..', import.meta.url))
const value = option
const smoke = flag('--smoke')
const sizes = String(value('--users', smoke ? '1000' : '10000')).split(',').map(Number)
const seconds = Number(value('--duration', smoke ? 6 : 30))
const processes = Number(value('--processes', 1))
const thinkMs = Number(value('--think', smoke ? 1000 : 5000))
const fdLimit = await softFdLimit()

const machine = describeMachine(root)
const results = []
// One user, same script: the memory a Loads process holds before users add their share.
const baseline = flag('--no-baseline') ? null : await measureBaseline()
for (const users of sizes) {
  const perProcess = Math.ceil(users / processes)
  if (perProcess + 200 > fdLimit) {
    log(`${users} users: skipped, ${perProcess} connections per process exceed the file-descriptor limit (${fdLimit}); use --processes`)
    results.push({ users, processes, skipped: `fd limit ${fdLimit}` })
    continue
  }
  // Each server port gives the clients ~28k ephemeral ports; nginx workers each hold < fdLimit.
  const ports = Math.max(1, Math.ceil(users / 20_000))
  const nginx = await startNginx({ core: null, workers: Math.max(1, Math.ceil((users + 100) / (fdLimit - 500))), workerConnections: Math.min(fdLimit - 200, users + 1000), ports, setCookie: true })
  try {
    const workers = Math.max(1, Math.min(2, Math.ceil(perProcess / 10_000)))
    log(`${users} users (${processes} process(es) × ${perProcess}, ${workers} worker(s) each), one request every ${thinkMs} ms, ${seconds} s, nginx ${nginx.urls.join(' ')}`)
    const children = Array.from({ length: processes }, (_, i) =>
      spawnLoads(Math.min(perProcess, users - i * perProcess), workers, nginx.urls),
    )
    let peakRss = 0
    let peakConnections = 0
    const done = Promise.all(children.map((c) => c.exited))
    let finished = false
    done.then(() => (finished = true))
    while (!finished) {
      const rss = children.reduce((sum, c) => sum + (rssBytes(c.child.pid) ?? 0), 0)
      if (rss > peakRss) peakRss = rss
      await nginx.status.requests()
      peakConnections = Math.max(peakConnections, nginx.status.activeConnections)
      await Promise.race([done, new Promise((r) => setTimeout(r, 250))])
    }
    const outputs = await done
    const hits = outputs.reduce((n, o) => n + Number(/Hits:\s*(\d+)/.exec(o.stdout)?.[1] ?? 0), 0)
    const failures = outputs.map((o) => /<TestResult run=(\d+) errors=(\d+) failures=(\d+)>/.exec(o.stdout)).reduce((n, m) => n + (m ? Number(m[2]) + Number(m[3]) : 1), 0)
    const result = {
      users,
      processes,
      workers,
      peakRssMB: round(peakRss / 2 ** 20),
      mbPerUser: round(peakRss / 2 ** 20 / users, 4),
      /** Above what the same processes hold with one user each: the cost of a user itself. */
      marginalKBPerUser: baseline === null ? null : round(((peakRss - baseline * processes) / 1024 / users), 1),
      peakOpenConnections: peakConnections,
      hits,
      failedRuns: failures,
      exitCodes: outputs.map((o) => o.code),
      cpuSeconds: round(outputs.reduce((n, o) => n + o.cpu, 0)),
    }
    results.push(result)
    log(`  peak RSS ${result.peakRssMB} MB = ${(result.mbPerUser * 1024).toFixed(1)} kB per user (${result.marginalKBPerUser} kB above a 1-user process); ${peakConnections} connections open at once (nginx); ${hits} hits, ${failures} failed runs`)
  } finally {
    await nginx.stop()
  }
}

const rows = results.map((r) => (r.skipped ? `| ${r.users} | ${r.processes} | skipped: ${r.skipped} | | | | |` : `| ${r.users} | ${r.processes} × ${r.workers} | ${r.peakRssMB} | ${(r.mbPerUser * 1024).toFixed(1)} | ${r.marginalKBPerUser ?? '–'} | ${r.peakOpenConnections} | ${r.hits} |`))
const table = [`Memory, ${machine.cpuModel}, ${machine.cores} cores, Node ${machine.node}; 1-user process: ${baseline === null ? '–' : round(baseline / 2 ** 20)} MB; one request per user every ${thinkMs} ms for ${seconds} s; a cookie set on every response`, '', '| users | processes × workers | peak RSS MB | kB per user | kB per user above a 1-user process | connections open at once (nginx) | hits |', '| ---: | ---: | ---: | ---: | ---: | ---: | ---: |', ...rows].join('\n')
process.stdout.write(`${table}\n`)
const date = new Date()
const outDir = value('--out', join(root, 'bench/results'))
const file = writeResults({ outDir, prefix: 'memory-', date, smoke }, { date: date.toISOString(), machine, fdLimit, thinkMs, seconds, results, table })
log(`written: ${file}`)

function spawnLoads(users, workers, urls, runSeconds = seconds) {
  const args = [join(root, 'bin/loads-runner.js'), join(root, 'bench/memory-case.ts') + ':Idle.test_visit', '-u', String(users), '-d', `${runSeconds}s`, '-w', String(workers), '-q']
  const child = spawn(process.execPath, args, { cwd: root, env: { ...process.env, LOADS_BENCH_URLS: urls.join(','), LOADS_BENCH_THINK_MS: String(thinkMs) }, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d))
  child.stderr.setEncoding('utf8').on('data', (d) => (stdout += d))
  let cpu = 0
  const timer = setInterval(() => (cpu = cpuSeconds(child.pid) ?? cpu), 500)
  const killer = setTimeout(() => child.kill('SIGKILL'), (seconds + thinkMs / 1000 + 90) * 1000)
  const exited = new Promise((resolve) =>
    child.once('exit', (code) => {
      clearInterval(timer)
      clearTimeout(killer)
      resolve({ code, stdout, cpu })
    }),
  )
  return { child, exited }
}

async function measureBaseline() {
  const nginx = await startNginx({ core: null, setCookie: true })
  try {
    const one = spawnLoads(1, 1, nginx.urls, 4)
    let peak = 0
    let finished = false
    one.exited.then(() => (finished = true))
    while (!finished) {
      peak = Math.max(peak, rssBytes(one.child.pid) ?? 0)
      await Promise.race([one.exited, new Promise((r) => setTimeout(r, 100))])
    }
    log(`1 user: peak RSS ${round(peak / 2 ** 20)} MB`)
    return peak
  } finally {
    await nginx.stop()
  }
}

function round(x, digits = 1) {
  const f = 10 ** digits
  return Math.round(x * f) / f
}

/** The soft limit on open files of processes started from here (`ulimit -n`). */
async function softFdLimit() {
  const out = await new Promise((resolve) => {
    const c = spawn('sh', ['-c', 'ulimit -n'])
    let s = ''
    c.stdout.on('data', (d) => (s += d))
    c.on('close', () => resolve(s.trim()))
  })
  return out === 'unlimited' ? 1_000_000 : Number(out)
}
