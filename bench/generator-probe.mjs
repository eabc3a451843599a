// What measuring the generator's health costs a worker (docs/generator-health.md): must stay
// under 1% of a worker's time.
//
//   1. Direct cost: ns per delay tick and µs per sample(), times how often each happens (100
//      ticks and one sample a second) = the share of one thread's second the probe takes.
//   2. A/B in one process, alternated: Loads' own HTTP client (Session + Recorder, 20 users,
//      think-free) against a Node server in a child process, in 1 s windows with the probe on and
//      off in turn; the hits of each pair of windows compared (median of the pairs' ratios).
//
// Usage: npm run build && node bench/generator-probe.mjs [--rounds 20] [--smoke] [--out DIR]
// Prints `uptime` beside the figures: the machine may be shared.
import { execFileSync, spawn } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { flag, option } from './lib/args.mjs'

const root = fileURLToPath(new URL('..', import.meta.url))
const dist = (p) => import(pathToFileURL(join(root, 'dist', p)).href)
const { GeneratorProbe, DELAY_TICK_MS } = await dist('runner/generator-probe.js')
const { Session } = await dist('http/session.js')
const { Recorder } = await dist('stats/recorder.js')

const smoke = flag('--smoke')
const rounds = Number(option('--rounds', smoke ? 2 : 20))
const outDir = option('--out', join(root, 'bench/results'))
const USERS = 20
const WINDOW_MS = smoke ? 300 : 1000
const uptime = () => execFileSync('uptime', { encoding: 'utf8' }).trim()

// 1. Direct cost. The tick is a timer callback doing what the probe's does (a clock read and a
// bucket increment); sample() is measured as is.
const probe = new GeneratorProbe('bench')
const SAMPLES = smoke ? 200 : 5000
for (let i = 0; i < 200; i++) probe.sample() // warm-up: JIT, first system calls
const t0 = performance.now()
for (let i = 0; i < SAMPLES; i++) probe.sample()
const sampleUs = ((performance.now() - t0) * 1000) / SAMPLES
probe.stop()
// The tick: a setImmediate spin counted over a window, with a probe ticking every 1 ms (ten times
// its real rate) and without, alternated; the time the ticks took from the spin, per tick.
function spin(ms, tickEveryMs) {
  const p = tickEveryMs !== undefined ? new GeneratorProbe('tick', tickEveryMs) : undefined
  return new Promise((resolve) => {
    let n = 0
    const start = performance.now()
    const step = () => {
      n++
      const now = performance.now()
      if (now - start < ms) return setImmediate(step)
      p?.stop()
      resolve({ n, ms: now - start })
    }
    setImmediate(step)
  })
}
const tickCosts = []
for (let r = 0; r < (smoke ? 1 : 10); r++) {
  const off = await spin(WINDOW_MS)
  const on = await spin(WINDOW_MS, 1)
  const perIteration = off.ms / off.n
  const ticks = on.ms / 1
  tickCosts.push(((on.ms - on.n * perIteration) / ticks) * 1e6)
}
tickCosts.sort((a, b) => a - b)
const tickNs = Math.max(0, tickCosts[Math.floor(tickCosts.length / 2)])
const ticksPerSec = 1000 / DELAY_TICK_MS
const directShare = (ticksPerSec * tickNs) / 1e9 + sampleUs / 1e6

// 2. A/B with real traffic, alternated.
const server = spawn(process.execPath, ['-e', "const s=require('http').createServer((q,r)=>r.end('ok'));s.listen(0,'127.0.0.1',()=>console.log(s.address().port))"], { stdio: ['ignore', 'pipe', 'inherit'] })
const port = await new Promise((resolve) => server.stdout.once('data', (d) => resolve(Number(String(d).trim()))))
const recorder = new Recorder({ source: 'bench' })
const sessions = Array.from({ length: USERS }, () => new Session({ sink: recorder, baseUrl: `http://127.0.0.1:${port}` }))

async function window(withProbe) {
  const p = withProbe ? new GeneratorProbe('bench') : undefined
  let hits = 0
  const end = performance.now() + WINDOW_MS
  await Promise.all(
    sessions.map(async (s) => {
      while (performance.now() < end) {
        await s.get('/')
        hits++
      }
    }),
  )
  // A real worker samples once a second.
  p?.sample()
  p?.stop()
  recorder.snapshot()
  return hits
}

const before = uptime()
await window(false) // warm-up
const pairs = []
for (let r = 0; r < rounds; r++) {
  // Alternate which goes first, so a trend in the machine's load favours neither.
  const first = r % 2 === 0
  const a = await window(first)
  const b = await window(!first)
  const on = first ? a : b
  const off = first ? b : a
  pairs.push({ on, off, ratio: on / off })
}
for (const s of sessions) await s.close()
server.kill()
const after = uptime()

const ratios = pairs.map((p) => p.ratio).sort((x, y) => x - y)
const median = ratios[Math.floor(ratios.length / 2)]
const result = {
  scene: { users: USERS, windowMs: WINDOW_MS, rounds, smoke, tickMs: DELAY_TICK_MS },
  direct: { sampleUs, tickNs, share: directShare },
  ab: { pairs, medianOnOverOff: median, costShare: 1 - median },
  uptime: { before, after },
}
mkdirSync(outDir, { recursive: true })
const file = join(outDir, `generator-probe-${new Date().toISOString().replace(/[:.]/g, '-')}${smoke ? '-smoke' : ''}.json`)
writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`)

console.log(`uptime before: ${before}`)
console.log(`uptime after:  ${after}`)
console.log(`direct: sample() ${sampleUs.toFixed(1)} µs × 1/s + tick ${tickNs.toFixed(0)} ns × ${ticksPerSec}/s = ${(directShare * 100).toFixed(3)}% of a thread`)
console.log(`A/B (${rounds} pairs of ${WINDOW_MS} ms windows, ${USERS} users): hits with/without the probe, median ratio ${median.toFixed(4)} → cost ${((1 - median) * 100).toFixed(2)}%`)
console.log(`  ratios: ${ratios.map((x) => x.toFixed(3)).join(' ')}`)
console.log(`wrote ${file}`)
