#!/usr/bin/env node
// Accuracy: Loads against a server that answers after exactly 50 ms, at ~2,000 req/s (100 users,
// one worker, 20 s). Targets (issue 7): reported p50 within ±1 ms of 50 ms, p99 ≤ 53 ms. The
// server measures its own delays too, and its request count must equal Loads' hits. wrk runs the
// same scene first (when installed): what a C client sees here tells the machine's share.
//
//   node bench/accuracy.mjs                 100 users, 20 s
//   node bench/accuracy.mjs --smoke         20 users, 2 s (counts only; timings not judged)
//   node bench/accuracy.mjs --strict        exit 1 when a target is missed
import { spawn, spawnSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import os from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describeMachine } from './lib/system.mjs'
import { parseLoads, parseWrk } from './lib/tools.mjs'

const root = fileURLToPath(new URL('..', import.meta.url))
const argv = process.argv.slice(2)
const value = (name, fallback) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : fallback)
const smoke = argv.includes('--smoke')
const users = Number(value('--users', smoke ? 20 : 100))
const seconds = Number(value('--duration', smoke ? 2 : 20))
const delayMs = Number(value('--delay', 50))
const pin = os.availableParallelism() >= 2
const log = (line) => process.stderr.write(`${line}\n`)

const machine = describeMachine(root)
const server = spawn(pin ? 'taskset' : process.execPath, [...(pin ? ['-c', '0', process.execPath] : []), join(root, 'bench/peers/delay-server.mjs'), String(delayMs)], { stdio: ['ignore', 'pipe', 'inherit'] })
// However this script ends, the server it started ends with it.
process.once('exit', () => server.kill('SIGKILL'))
const port = await new Promise((resolve, reject) => {
  server.stdout.once('data', (d) => resolve(Number(String(d).trim())))
  server.once('exit', (code) => reject(new Error(`delay server exited (${code})`)))
})
const url = `http://127.0.0.1:${port}`
log(`delay server ${url} (${delayMs} ms${pin ? ', core 0' : ''}); Loads: ${users} users, 1 worker${pin ? ' on core 1' : ''}, ${seconds} s`)

let reference = null
try {
  if (!smoke && spawnSyncOk('wrk')) {
    const wrk = await runPinned('wrk', ['-t1', `-c${users}`, `-d${Math.min(seconds, 10)}s`, '--latency', `${url}/`])
    const own = parseWrk(wrk.stdout)
    const served = await getJson(`${url}/stats`)
    reference = { p50Ms: own.p50Ms, p99Ms: own.p99Ms, requests: own.claimedRequests, server: { p50Ms: served.p50Ms, p99Ms: served.p99Ms, maxMs: served.maxMs, requests: served.requests } }
    await getJson(`${url}/reset`).catch(() => {})
  }
} catch (err) {
  log(`wrk reference skipped: ${err.message}`)
}

let result
try {
  const loadsArgs = [join(root, 'bin/loads-runner.js'), join(root, 'bench/loads-case.ts') + ':Bench.test_index', '-u', String(users), '-d', `${seconds}s`, '-w', '1', '--server-url', url, '-q']
  const run = await new Promise((resolve) => {
    const child = spawn(pin ? 'taskset' : process.execPath, [...(pin ? ['-c', '1', process.execPath] : []), ...loadsArgs], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d))
    child.stderr.setEncoding('utf8').on('data', (d) => (stdout += d))
    const killer = setTimeout(() => child.kill('SIGKILL'), (seconds + 60) * 1000)
    child.once('exit', (code) => {
      clearTimeout(killer)
      resolve({ code, stdout })
    })
  })
  const loads = parseLoads(run.stdout)
  const duration = Number(/Duration:\s*([\d.]+) s/.exec(run.stdout)?.[1] ?? seconds)
  const served = await getJson(`${url}/stats`)
  const targets = { p50: Math.abs(loads.p50Ms - delayMs) <= 1, p99: loads.p99Ms <= delayMs + 3 }
  result = {
    users,
    seconds,
    delayMs,
    exitCode: run.code,
    hits: loads.claimedRequests,
    serverRequests: served.requests,
    hitsPerSec: Math.round(loads.claimedRequests / duration),
    loads: { p50Ms: loads.p50Ms, p99Ms: loads.p99Ms, maxMs: Number(/max ([\d.]+)/.exec(run.stdout)?.[1] ?? NaN) },
    server: { p50Ms: served.p50Ms, p99Ms: served.p99Ms, maxMs: served.maxMs },
    problems: loads.errors,
    targets: smoke ? null : targets,
    wrk: reference,
  }
} finally {
  server.kill('SIGTERM')
}

const verdict = (ok) => (ok ? 'yes' : 'NO')
const table = [
  `Accuracy, ${machine.cpuModel}, ${machine.cores} cores, Node ${machine.node}: a server answering after ${delayMs} ms, ${users} users, 1 worker, ${seconds} s`,
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
].join('\n')
process.stdout.write(`${table}\n`)
const outDir = value('--out', join(root, 'bench/results'))
mkdirSync(outDir, { recursive: true })
const date = new Date()
const file = join(outDir, `accuracy-${date.toISOString().replace(/:/g, '-').replace(/\..*/, '')}${smoke ? '-smoke' : ''}.json`)
writeFileSync(file, `${JSON.stringify({ date: date.toISOString(), machine, result, table }, null, 2)}\n`)
log(`written: ${file}`)
if (argv.includes('--strict') && result.targets !== null && !(result.targets.p50 && result.targets.p99)) process.exitCode = 1

function spawnSyncOk(bin) {
  return spawnSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' }).status === 0
}

function runPinned(command, args) {
  return new Promise((resolve) => {
    const child = spawn(pin ? 'taskset' : command, [...(pin ? ['-c', '1', command] : []), ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d))
    const killer = setTimeout(() => child.kill('SIGKILL'), (seconds + 60) * 1000)
    child.once('exit', (code) => {
      clearTimeout(killer)
      resolve({ code, stdout })
    })
  })
}

function getJson(address) {
  return new Promise((resolve, reject) => {
    http.get(address, (res) => {
      let body = ''
      res.on('data', (d) => (body += d))
      res.on('end', () => {
        try {
          resolve(JSON.parse(body))
        } catch (err) {
          reject(err)
        }
      })
    }).on('error', reject)
  })
}
