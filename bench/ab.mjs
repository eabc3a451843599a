#!/usr/bin/env node
// A/B: did a change cost speed? Builds an old commit of Loads in a temporary git worktree and
// runs it and the new one (this checkout, or another commit) against the benchmark's nginx, in
// pairs whose order alternates (old then new, new then old …), each Loads run right after a wrk
// run, so a machine that gets busier or quieter moves both sides alike. Prints each run's
// req/s, Loads ÷ wrk and CPU-seconds per 100k requests, and the medians of new ÷ old. The
// temporary worktree is removed at the end (also on Ctrl-C).
//
//   node bench/ab.mjs                          old = b89e7bb (what issue 12 measured), new = this
//                                              checkout (built first), 3 pairs × 10 s
//   node bench/ab.mjs --old main --pairs 5     any commit-ish; --new <commit> builds that too
//   node bench/ab.mjs --smoke --old HEAD       1 pair × 2 s: checks the harness only
//   node bench/ab.mjs --no-build               use this checkout's dist/ as it is
//   node bench/ab.mjs --http2 --old main       HTTP/2 over TLS: nginx's `ssl http2` port, each Loads
//                                              run (`--http2`) right after an h2load (-c N -m 1) run
//   node bench/ab.mjs --tls --old main         HTTPS/1.1: the same TLS port, wrk and Loads over
//                                              https:// (ALPN http/1.1), as in bench/tls-h2.mjs
//   node bench/ab.mjs --corun --old main       both builds at once on core 1, each against its own
//                                              nginx, CPU per request compared over one window
//                                              (no wrk): to ~1% where pairs one after the other
//                                              give ~8% on this VM; with --tls or --http2 too
//   node bench/ab.mjs --help                   this text
//
// Figures mean something only on a quiet machine: the script prints the load average before and
// after, and calls the run NOT QUIET when the 1-minute load at the start is ≥ 1.5 (2 cores:
// nginx on core 0, the generators on core 1).
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { flag, option } from './lib/args.mjs'
import { measure, measureTogether } from './lib/measure.mjs'
import { startNginx } from './lib/nginx.mjs'
import { writeResults } from './lib/results.mjs'
import { describeMachine } from './lib/system.mjs'
import { parseLoads, parseWrk } from './lib/tools.mjs'
import { parseH2load } from './tls-h2.mjs'

const root = fileURLToPath(new URL('..', import.meta.url))
const smoke = flag('--smoke')
const oldRef = option('--old', 'b89e7bb')
const newRef = option('--new', undefined)
const pairs = Number(option('--pairs', smoke ? 1 : 3))
const seconds = Number(option('--duration', smoke ? 2 : 10))
const connections = Number(option('--connections', 50))
/** HTTP/2 over TLS (the TLS scene's nginx port), h2load as the peer instead of wrk. */
const http2 = flag('--http2')
/** HTTPS/1.1 on the TLS scene's nginx port, wrk as the peer. */
const tls = flag('--tls') || http2
const peerName = http2 ? 'h2load' : 'wrk'
/** Both builds at once, side by side on the generator core, each against its own nginx. */
const corun = flag('--corun')
const outDir = option('--out', join(root, 'bench/results'))
const log = (line) => process.stderr.write(`${line}\n`)
const QUIET_LOAD = 1.5
const USAGE = 'usage: node bench/ab.mjs [--old COMMIT] [--new COMMIT] [--pairs 1..20] [--duration 1..120] [--connections N] [--http2 | --tls] [--corun] [--no-build] [--smoke] [--out DIR]'

if (!(pairs >= 1 && pairs <= 20) || !(seconds > 0 && seconds <= 120) || !(connections >= 1 && connections <= 1000)) {
  log(USAGE)
  process.exit(2)
}
for (const bin of [...(corun ? [] : [peerName]), 'nginx', 'git']) {
  if (spawnSync('sh', ['-c', `command -v ${bin} || test -x /usr/sbin/${bin}`], { stdio: 'ignore' }).status !== 0) {
    log(`${bin} is not installed (scripts/ensure-system-deps.mjs installs it)`)
    process.exit(2)
  }
}

/** Temporary worktrees made here, removed by `cleanUp` whatever happens. */
const worktrees = []
function cleanUp() {
  for (const dir of worktrees.splice(0)) {
    spawnSync('git', ['-C', root, 'worktree', 'remove', '--force', dir], { stdio: 'ignore' })
    rmSync(dir, { recursive: true, force: true })
  }
  spawnSync('git', ['-C', root, 'worktree', 'prune'], { stdio: 'ignore' })
}
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    cleanUp()
    process.exit(130)
  })
}

/** Builds `ref` in a temporary worktree (this checkout's node_modules linked in); returns its root. */
function buildCommit(ref) {
  const commit = execFileSync('git', ['-C', root, 'rev-parse', '--verify', `${ref}^{commit}`], { encoding: 'utf8' }).trim()
  const dir = mkdtempSync(join(os.tmpdir(), 'loads-ab-'))
  worktrees.push(dir)
  execFileSync('git', ['-C', root, 'worktree', 'add', '--detach', dir, commit], { stdio: 'ignore' })
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'), 'dir')
  log(`building ${ref} (${commit.slice(0, 9)}) in ${dir} …`)
  const built = spawnSync('npm', ['run', 'build'], { cwd: dir, encoding: 'utf8' })
  if (built.status !== 0) throw new Error(`npm run build of ${ref} failed:\n${(built.stdout + built.stderr).trim().split('\n').slice(-10).join('\n')}`)
  return { root: dir, label: `${ref} (${commit.slice(0, 9)})`, commit }
}

function describeCheckout() {
  const commit = execFileSync('git', ['-C', root, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim()
  const dirty = execFileSync('git', ['-C', root, 'status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8' }).trim() !== ''
  if (!flag('--no-build')) {
    log('building this checkout (npm run build) …')
    const built = spawnSync('npm', ['run', 'build'], { cwd: root, encoding: 'utf8' })
    if (built.status !== 0) throw new Error(`npm run build failed:\n${(built.stdout + built.stderr).trim().split('\n').slice(-10).join('\n')}`)
  } else if (!existsSync(join(root, 'dist'))) {
    throw new Error('--no-build: this checkout has no dist/ (run npm run build)')
  }
  return { root, label: `this checkout (${commit.slice(0, 9)}${dirty ? ', with changes' : ''})`, commit }
}

const loadAverage = () => os.loadavg().map((l) => Math.round(l * 100) / 100)
const median = (xs) => {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b)
  if (s.length === 0) return NaN
  return s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}
const fixed = (n, digits) => (Number.isFinite(n) ? n.toFixed(digits) : '–')

/** A Loads run of the benchmark's TestCase with the build at `sideRoot` against `url`. */
const loadsRun = (sideRoot, url) => ({
  command: process.execPath,
  args: [join(sideRoot, 'bin/loads-runner.js'), join(root, 'bench/loads-case.ts') + ':Bench.test_index', '-u', String(connections), '-d', `${seconds}s`, '-w', '1', '--server-url', url, '-q', ...(http2 ? ['--http2'] : []), ...(tls ? ['--insecure'] : [])],
  cwd: root,
})

/** What went wrong with a Loads run, or null. */
const loadsProblem = (result, own) => (result.code !== 0 ? `exit ${result.code ?? result.signal}: ${result.stderr.trim().split('\n').slice(-2).join(' | ')}` : own.errors)

/** Writes an A/B's results file (`<prefix><date>[-smoke].json` in --out) and says where. */
function saveResult(prefix, { machine, scene, loadAtStart, loadAtEnd, quiet, sides, runs, summary, table }) {
  const date = new Date()
  const old = { ref: oldRef, commit: sides.old.commit }
  const new_ = { ref: newRef ?? 'checkout', commit: sides.new.commit }
  const file = writeResults({ outDir, prefix, date, smoke }, { date: date.toISOString(), machine, scene, loadAtStart, loadAtEnd, quiet, old, new: new_, runs, summary, table })
  log(`written: ${file}`)
}

/**
 * `--corun`: per pair, both builds at once on the generator core, each against its own nginx
 * (the same configuration, both on core 0), CPU per request of each over the same window.
 */
async function corunPairs({ sides, machine, loadAtStart, quiet, pin, clientCore }) {
  let code = 0
  const servers = { old: await startNginx({ core: pin ? 0 : null, tls }), new: await startNginx({ core: pin ? 0 : null, tls }) }
  const urlOf = (n) => (tls ? n.tlsUrl : n.url)
  const runs = []
  try {
    for (let pair = 0; pair < pairs; pair++) {
      // Which one starts first alternates (a few ms apart; the window starts once both run).
      const order = pair % 2 === 0 ? ['old', 'new'] : ['new', 'old']
      const specs = {}
      for (const side of order) specs[side] = { ...loadsRun(sides[side].root, urlOf(servers[side])), server: servers[side].status }
      const together = await measureTogether(specs, { core: clientCore, timeoutMs: (seconds + 90) * 1000 })
      for (const side of ['old', 'new']) {
        const result = together.sides[side]
        const own = parseLoads(result.stdout)
        const run = {
          pair: pair + 1,
          side,
          windowSeconds: together.windowSeconds,
          reqPerSec: result.reqPerSec,
          cpuPer100k: result.cpuPer100k,
          p50Ms: own.p50Ms,
          p99Ms: own.p99Ms,
          hits: own.claimedRequests,
          serverRequests: result.serverRequests,
          problem: loadsProblem(result, own) ?? (together.windowSeconds > 0 ? null : 'no shared window: one run made no requests while the other did'),
        }
        runs.push(run)
        if (run.problem !== null) code = 1
      }
      const [o, n] = ['old', 'new'].map((side) => runs.find((r) => r.pair === pair + 1 && r.side === side))
      log(`pair ${pair + 1}, together for ${together.windowSeconds.toFixed(1)} s: old ${Math.round(o.reqPerSec)} req/s, ${fixed(o.cpuPer100k, 2)} CPU-s/100k · new ${Math.round(n.reqPerSec)} req/s, ${fixed(n.cpuPer100k, 2)} CPU-s/100k · new ÷ old CPU ${fixed(n.cpuPer100k / o.cpuPer100k, 3)}${o.problem || n.problem ? `  [${o.problem ?? n.problem}]` : ''}`)
    }
  } finally {
    await Promise.all([servers.old.stop(), servers.new.stop()])
  }
  const loadAtEnd = loadAverage()
  const per = (pair, side) => runs.find((r) => r.pair === pair && r.side === side)
  const ratios = Array.from({ length: pairs }, (_, i) => per(i + 1, 'new').cpuPer100k / per(i + 1, 'old').cpuPer100k)
  const summary = { cpuPer100k: median(ratios), reqPerSec: median(Array.from({ length: pairs }, (_, i) => per(i + 1, 'new').reqPerSec / per(i + 1, 'old').reqPerSec)) }
  const proto = http2 ? 'HTTP/2 over TLS' : tls ? 'HTTPS/1.1' : 'HTTP/1.1'
  const lines = [
    `A/B side by side ${new Date().toISOString()}: old ${sides.old.label}, new ${sides.new.label}; both at once on core ${clientCore ?? 'any'}, ${proto}, each against its own nginx; ${machine.cpuModel}, ${machine.cores} cores; load average ${loadAtStart.join(' ')} at the start, ${loadAtEnd.join(' ')} at the end${quiet ? '' : ' — NOT QUIET'}`,
    '',
    '| pair | window s | old req/s | new req/s | old CPU-s / 100k | new CPU-s / 100k | new ÷ old CPU | hits / nginx counted (old · new) |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
    ...Array.from({ length: pairs }, (_, i) => {
      const o = per(i + 1, 'old')
      const n = per(i + 1, 'new')
      const counts = (r) => r.problem ?? `${r.hits} / ${r.serverRequests}`
      return `| ${i + 1} | ${fixed(o.windowSeconds, 1)} | ${Math.round(o.reqPerSec)} | ${Math.round(n.reqPerSec)} | ${fixed(o.cpuPer100k, 2)} | ${fixed(n.cpuPer100k, 2)} | ${fixed(ratios[i], 3)} | ${counts(o)} · ${counts(n)} |`
    }),
    '',
    `new ÷ old CPU-s per 100k requests, median over ${pairs} pair(s): ${fixed(summary.cpuPer100k, 3)} (below 1: cheaper); old against old gives 1.00 ± 0.01 here`,
  ]
  const table = lines.join('\n')
  process.stdout.write(`${table}\n`)
  const scene = { server: `two nginx, 1 worker each on core 0, 100-byte file, ${proto}`, mode: 'corun', generatorCore: clientCore, connections, seconds, pairs, smoke }
  saveResult('ab-corun-', { machine, scene, loadAtStart, loadAtEnd, quiet, sides, runs, summary, table })
  return code
}

let exitCode = 0
try {
  const sides = { old: buildCommit(oldRef), new: newRef === undefined ? describeCheckout() : buildCommit(newRef) }
  const machine = describeMachine(root)
  const loadAtStart = loadAverage()
  const quiet = loadAtStart[0] < QUIET_LOAD
  const pin = os.availableParallelism() >= 2
  const clientCore = pin ? 1 : null
  if (pin) spawnSync('taskset', ['-a', '-p', '-c', '0', String(process.pid)], { stdio: 'ignore' })
  log(`machine: ${machine.cpuModel}, ${machine.cores} cores, Node ${machine.node}, load average ${loadAtStart.join(' ')}${quiet ? '' : ' — NOT QUIET'}`)
  log(`old: ${sides.old.label}; new: ${sides.new.label}; ${pairs} pair(s) × ${seconds} s, ${connections} connections`)

  if (corun) {
    exitCode = await corunPairs({ sides, machine, loadAtStart, quiet, pin, clientCore })
  } else {
    const nginx = await startNginx({ core: pin ? 0 : null, tls })
    const url = tls ? nginx.tlsUrl : nginx.url
    const runs = []
    try {
      for (let pair = 0; pair < pairs; pair++) {
        for (const side of pair % 2 === 0 ? ['old', 'new'] : ['new', 'old']) {
          const timeoutMs = (seconds + 90) * 1000
          const peerArgs = http2 ? ['-c', String(connections), '-m', '1', '-D', String(seconds), `${url}/`] : ['-t1', `-c${connections}`, `-d${seconds}s`, '--latency', `${url}/`]
          const wrk = await measure({ command: peerName, args: peerArgs, core: clientCore, timeoutMs, server: nginx.status })
          const loads = await measure({ ...loadsRun(sides[side].root, url), core: clientCore, timeoutMs, server: nginx.status })
          const own = parseLoads(loads.stdout)
          const wrkOwn = http2 ? parseH2load(wrk.stdout) : parseWrk(wrk.stdout)
          const problem = loadsProblem(loads, own)
          const run = {
            pair: pair + 1,
            side,
            wrkReqPerSec: wrk.reqPerSec,
            reqPerSec: loads.reqPerSec,
            vsWrk: loads.reqPerSec / wrk.reqPerSec,
            cpuPer100k: loads.cpuPer100k,
            wrkCpuPer100k: wrk.cpuPer100k,
            p50Ms: own.p50Ms,
            p99Ms: own.p99Ms,
            hits: own.claimedRequests,
            serverRequests: loads.serverRequests,
            problem: problem ?? (wrkOwn.errors !== null ? `${peerName}: ${wrkOwn.errors}` : null),
          }
          runs.push(run)
          if (run.problem !== null) exitCode = 1
          log(`pair ${run.pair} ${side}: ${peerName} ${Math.round(run.wrkReqPerSec)} req/s, Loads ${Math.round(run.reqPerSec)} req/s (×${fixed(run.vsWrk, 2)} ${peerName}), ${fixed(run.cpuPer100k, 2)} CPU-s/100k${run.problem ? `  [${run.problem}]` : ''}`)
        }
      }
    } finally {
      await nginx.stop()
    }
    const loadAtEnd = loadAverage()

    const ratio = (key) => median(Array.from({ length: pairs }, (_, i) => runs.find((r) => r.pair === i + 1 && r.side === 'new')[key] / runs.find((r) => r.pair === i + 1 && r.side === 'old')[key]))
    const summary = { reqPerSec: ratio('reqPerSec'), vsWrk: ratio('vsWrk'), cpuPer100k: ratio('cpuPer100k') }
    const lines = [
      `A/B ${new Date().toISOString()}: old ${sides.old.label}, new ${sides.new.label}; ${machine.cpuModel}, ${machine.cores} cores; load average ${loadAtStart.join(' ')} at the start, ${loadAtEnd.join(' ')} at the end${quiet ? '' : ' — NOT QUIET: these figures do not say how fast either side is'}`,
      '',
      `| pair | side | ${peerName} req/s | Loads req/s | Loads ÷ ${peerName} | Loads CPU-s / 100k req | p50 ms | p99 ms | hits / nginx counted |`,
      '| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
      ...runs.map((r) => `| ${r.pair} | ${r.side} | ${Math.round(r.wrkReqPerSec)} | ${Math.round(r.reqPerSec)} | ${fixed(r.vsWrk, 2)} | ${fixed(r.cpuPer100k, 2)} | ${r.p50Ms ?? '–'} | ${r.p99Ms ?? '–'} | ${r.problem ?? `${r.hits} / ${r.serverRequests}`} |`),
      '',
      `new ÷ old, median over ${pairs} pair(s): req/s ${fixed(summary.reqPerSec, 3)}, Loads ÷ ${peerName} ${fixed(summary.vsWrk, 3)}, CPU-s per 100k requests ${fixed(summary.cpuPer100k, 3)} (below 1: cheaper)`,
    ]
    const table = lines.join('\n')
    process.stdout.write(`${table}\n`)
    const scene = { server: `nginx, 1 worker on core 0, 100-byte file${http2 ? ', HTTP/2 over TLS 1.3' : tls ? ', HTTPS/1.1 (TLS 1.3)' : ''}`, peer: peerName, generatorCore: clientCore, connections, seconds, pairs, smoke }
    saveResult('ab-', { machine, scene, loadAtStart, loadAtEnd, quiet, sides, runs, summary, table })
  }
} catch (err) {
  log(err instanceof Error ? err.message : String(err))
  exitCode = 1
} finally {
  cleanUp()
}
process.exitCode = exitCode
