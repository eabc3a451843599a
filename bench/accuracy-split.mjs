#!/usr/bin/env node
// Where each millisecond of a hit's latency goes, in bench/accuracy.mjs's scene (the C delay
// server pinned to core 0, Loads with one worker pinned to core 1, 100 users, 20 s). The server
// runs in its "stamps" mode and the TestCase (bench/accuracy-split-case.ts) keeps, per hit:
//
//   request path   Loads' start of the hit → the server's kernel received the request
//   server         received → the server wrote the answer (50 ms if exact)
//   response path  written → Loads' worker handled it: wake-up, waiting behind other work, GC
//
// and the worker's GC pauses. It prints their percentiles, where the hits over delay + 3 ms fall
// in time, and how the users bunch: with a fixed delay and no think time the users stay in phase,
// one burst of answers per cycle, and a late wake-up at a burst's start delays the whole burst.
// A diagnostic, not a benchmark: reading the stamps costs each hit a little. Needs a C compiler.
//
//   node bench/accuracy-split.mjs [--users 100] [--duration 20] [--delay 50] [--node-args "--single-threaded-gc"]
//   node bench/accuracy-split.mjs --bare      the same scene with bench/peers/bare-client.mjs in
//                                             Loads' place: what a bare Node event loop sees
//   node bench/accuracy-split.mjs --smoke     20 users, 3 s: checks the harness only
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { flag, option, pinned } from './lib/args.mjs'
import { buildCServer } from './lib/delay-server.mjs'

const root = fileURLToPath(new URL('..', import.meta.url))
const value = option
const smoke = flag('--smoke')
const users = Number(value('--users', smoke ? 20 : 100))
const seconds = Number(value('--duration', smoke ? 3 : 20))
const delayMs = Number(value('--delay', 50))
const nodeArgs = value('--node-args', '').split(' ').filter(Boolean)
const bare = flag('--bare')
const pin = os.availableParallelism() >= 2

const built = buildCServer()
if (built.binary === undefined) {
  process.stderr.write(`the C delay server could not be built: ${built.error}\n`)
  process.exit(2)
}
const dir = mkdtempSync(join(os.tmpdir(), 'loads-split-'))
const out = join(dir, 'split.json')
const server = spawn(...pinned(pin ? 0 : null, built.binary, [String(delayMs), String(delayMs * 1000), 'stamps']), { stdio: ['ignore', 'pipe', 'inherit'] })
process.once('exit', () => {
  server.kill('SIGKILL')
  rmSync(dir, { recursive: true, force: true })
  rmSync(built.dir, { recursive: true, force: true })
})
const port = await new Promise((resolve) => server.stdout.once('data', (d) => resolve(Number(String(d).trim()))))
const url = `http://127.0.0.1:${port}`

const loads = await new Promise((resolve) => {
  const args = bare
    ? [...nodeArgs, join(root, 'bench/peers/bare-client.mjs'), url, String(users), String(seconds)]
    : [...nodeArgs, join(root, 'bin/loads-runner.js'), join(root, 'bench/accuracy-split-case.ts') + ':Split.test_index', '-u', String(users), '-d', `${seconds}s`, '-w', '1', '--server-url', url, '-q']
  const child = spawn(...pinned(pin ? 1 : null, process.execPath, args), { cwd: root, env: { ...process.env, LOADS_SPLIT_OUT: out }, stdio: ['ignore', 'pipe', 'inherit'] })
  let stdout = ''
  child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d))
  const killer = setTimeout(() => child.kill('SIGKILL'), (seconds + 60) * 1000)
  child.once('exit', () => {
    clearTimeout(killer)
    resolve(stdout)
  })
})
const served = await (await fetch(`${url}/stats`)).json()
server.kill('SIGTERM')

const { rows, gcs } = JSON.parse(readFileSync(out, 'utf8'))
const hits = []
for (let i = 0; i < rows.length; i += 5) hits.push({ sent: rows[i], arrived: rows[i + 1], answered: rows[i + 2], end: rows[i + 3], latency: rows[i + 4] })
const t0 = Math.min(...hits.map((h) => h.sent))
const later = hits.filter((h) => h.sent - t0 >= 2000)
const sorted = (xs) => Float64Array.from(xs).sort()
const pct = (s, p) => s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]
const ms = (x) => x.toFixed(2).padStart(7)
const line = (label, xs) => {
  const s = sorted(xs)
  return `| ${label} | ${ms(pct(s, 50))} | ${ms(pct(s, 90))} | ${ms(pct(s, 99))} | ${ms(pct(s, 99.9))} | ${ms(s[s.length - 1])} |`
}
const split = (list) => [
  line(bare ? 'latency the client recorded' : 'latency Loads recorded', list.map((h) => h.latency)),
  line('request path', list.map((h) => h.arrived - h.sent)),
  line('server', list.map((h) => h.answered - h.arrived)),
  line('response path', list.map((h) => h.end - h.answered)),
]
const limit = delayMs + 3
const over = hits.filter((h) => h.latency > limit)
const overIn = (from, to) => over.filter((h) => h.sent - t0 >= from && h.sent - t0 < to).length

// Bursts: answers written less than 8 ms apart belong to one.
const bursts = []
for (const h of [...later].sort((a, b) => a.answered - b.answered)) {
  const b = bursts.at(-1)
  if (b !== undefined && h.answered - b.last < 8) {
    b.size++
    b.last = h.answered
  } else bursts.push({ first: h, last: h.answered, size: 1 })
}
const firstWait = sorted(bursts.map((b) => b.first.end - b.first.answered))
const pauses = []
for (let i = 0; i < gcs.length; i += 2) if (gcs[i] - t0 >= 2000) pauses.push(gcs[i + 1])
const gc = sorted(pauses)

const summary = /Latency \(ms\):.*/.exec(loads)?.[0] ?? loads.trim().split('\n').slice(-3).join(' ')
console.log(`${users} users, ${bare ? 'the bare Node client' : '1 worker'}${pin ? ' on core 1' : ''}, ${seconds} s, server answering after ${delayMs} ms${pin ? ' on core 0' : ''}`)
console.log(bare ? summary : `Loads: ${summary}`)
console.log(`server's own: p50 ${served.p50Ms} p99 ${served.p99Ms} max ${served.maxMs} ms; late by ${served.lateUs.p99} µs at p99\n`)
for (const [title, list] of [[`all ${hits.length} hits`, hits], [`the ${later.length} hits after the first 2 s`, later]]) {
  console.log(`${title}, ms:\n\n| | p50 | p90 | p99 | p99.9 | max |\n| --- | ---: | ---: | ---: | ---: | ---: |\n${split(list).join('\n')}\n`)
}
console.log(`hits over ${limit} ms: ${over.length} (${((100 * over.length) / hits.length).toFixed(2)}%): ${overIn(0, 1000)} in the first second, ${overIn(1000, 2000)} in the second, ${overIn(2000, Infinity)} after`)
console.log(`bursts after 2 s: ${bursts.length}, ${pct(sorted(bursts.map((b) => b.size)), 50)} hits each (median); the first answer of a burst waited ${pct(firstWait, 50).toFixed(2)} ms at p50, ${pct(firstWait, 90).toFixed(2)} at p90, ${pct(firstWait, 99).toFixed(2)} at p99; over 1 ms in ${((100 * firstWait.filter((w) => w > 1).length) / firstWait.length).toFixed(1)}% of bursts`)
if (!bare) console.log(`worker GC pauses after 2 s: ${gc.length} (${(gc.length / ((Math.max(...hits.map((h) => h.sent)) - t0 - 2000) / 1000)).toFixed(2)}/s), ${gc.length === 0 ? '–' : `median ${pct(gc, 50).toFixed(2)} ms, max ${gc[gc.length - 1].toFixed(2)} ms`}`)
