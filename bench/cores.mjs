#!/usr/bin/env node
// Cores: Loads' README TestCase with 1 and with 2 workers (50 users each) against nginx, requests
// counted by nginx, CPU by /proc. With 1 worker the generator is pinned to core 1 and nginx
// (1 worker) to core 0, as in `npm run bench`. With 2 workers the generator may use every core,
// and so may nginx (2 workers): on a 2-core machine they share the cores, so the figure that
// tells how Loads scales is requests per CPU-second of the generator, next to raw req/s.
//
//   node bench/cores.mjs                 2 rounds × (1 worker, 2 workers) × 10 s
//   node bench/cores.mjs --smoke         1 round × 2 s
import os from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { measure } from './lib/measure.mjs'
import { startNginx } from './lib/nginx.mjs'
import { describeMachine } from './lib/system.mjs'
import { parseLoads } from './lib/tools.mjs'
import { flag, log, option } from './lib/args.mjs'
import { writeResults } from './lib/results.mjs'

const root = fileURLToPath(new URL('..', import.meta.url))
const value = option
const smoke = flag('--smoke')
const seconds = Number(value('--duration', smoke ? 2 : 10))
const rounds = Number(value('--rounds', smoke ? 1 : 2))
const usersPerWorker = Number(value('--users', 50))
const cores = os.availableParallelism()
const machine = describeMachine(root)

const scenes = [
  { workers: 1, generatorCore: cores >= 2 ? 1 : null, nginx: { core: cores >= 2 ? 0 : null, workers: 1 } },
  { workers: 2, generatorCore: null, nginx: { core: null, workers: 2 } },
]
const runs = []
for (let round = 0; round < rounds; round++) {
  for (const scene of round % 2 === 0 ? scenes : [...scenes].reverse()) {
    const nginx = await startNginx(scene.nginx)
    try {
      const users = usersPerWorker * scene.workers
      const args = [join(root, 'bin/loads-runner.js'), join(root, 'bench/loads-case.ts') + ':Bench.test_index', '-u', String(users), '-d', `${seconds}s`, '-w', String(scene.workers), '--server-url', nginx.url, '-q']
      const r = await measure({ command: process.execPath, args, cwd: root, core: scene.generatorCore, timeoutMs: (seconds + 60) * 1000, server: nginx.status })
      const own = parseLoads(r.stdout)
      const run = {
        round,
        workers: scene.workers,
        users,
        reqPerSec: Math.round(r.reqPerSec),
        generatorCores: Math.round(r.cpuUtilisation * 100) / 100,
        reqPerGeneratorCpuSecond: Math.round(r.reqPerSec / r.cpuUtilisation),
        cpuPer100k: Math.round(r.cpuPer100k * 100) / 100,
        p50Ms: own.p50Ms,
        p99Ms: own.p99Ms,
        hits: own.claimedRequests,
        serverRequests: r.serverRequests,
        problem: r.code !== 0 ? `exit ${r.code}` : own.errors,
      }
      runs.push(run)
      log(`round ${round + 1}: ${scene.workers} worker(s): ${run.reqPerSec} req/s (nginx), generator ${run.generatorCores} cores → ${run.reqPerGeneratorCpuSecond} req per CPU-second${run.problem ? ` [${run.problem}]` : ''}`)
    } finally {
      await nginx.stop()
    }
  }
}

const median = (xs) => {
  const v = [...xs].sort((a, b) => a - b)
  return v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2
}
const summary = [1, 2].map((workers) => {
  const mine = runs.filter((r) => r.workers === workers)
  return {
    workers,
    reqPerSec: Math.round(median(mine.map((r) => r.reqPerSec))),
    generatorCores: Math.round(median(mine.map((r) => r.generatorCores)) * 100) / 100,
    reqPerGeneratorCpuSecond: Math.round(median(mine.map((r) => r.reqPerGeneratorCpuSecond))),
    p50Ms: Math.round(median(mine.map((r) => r.p50Ms)) * 100) / 100,
    p99Ms: Math.round(median(mine.map((r) => r.p99Ms)) * 100) / 100,
  }
})
const [one, two] = summary
const table = [
  `Cores, ${machine.cpuModel}, ${machine.cores} cores, Node ${machine.node}: Loads README TestCase, ${usersPerWorker} users per worker, ${seconds} s × ${rounds} round(s), medians${smoke ? ' (smoke)' : ''}`,
  '',
  '| workers | where | req/s (nginx) | generator cores used | req per generator CPU-second | p50 ms | p99 ms |',
  '| ---: | --- | ---: | ---: | ---: | ---: | ---: |',
  `| 1 | generator core 1, nginx (1 worker) core 0 | ${one.reqPerSec} | ${one.generatorCores} | ${one.reqPerGeneratorCpuSecond} | ${one.p50Ms} | ${one.p99Ms} |`,
  `| 2 | generator and nginx (2 workers) share both cores | ${two.reqPerSec} | ${two.generatorCores} | ${two.reqPerGeneratorCpuSecond} | ${two.p50Ms} | ${two.p99Ms} |`,
  '',
  `2 workers ÷ 1 worker: req/s × ${(two.reqPerSec / one.reqPerSec).toFixed(2)}; req per generator CPU-second × ${(two.reqPerGeneratorCpuSecond / one.reqPerGeneratorCpuSecond).toFixed(2)} (1.00 = linear per core)`,
].join('\n')
process.stdout.write(`${table}\n`)
const outDir = value('--out', join(root, 'bench/results'))
const date = new Date()
const file = writeResults({ outDir, prefix: 'cores-', date, smoke }, { date: date.toISOString(), machine, runs, summary, table })
log(`written: ${file}`)
