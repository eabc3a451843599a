// Scale of the cluster runner (issue 3, item 8): 100 simulated agents each store a one-second
// snapshot with 50 URL names in a run's JetStream stream, as real agents do (each agent merges
// its workers' snapshots into one a second, in the compact wire form: SnapshotMerger); the runner reads
// them back through the same RunWatcher (ordered consumer, de-duplication, per-agent board) and
// merges them in the Aggregator, as a live `--agents` run does. Prints the runner's CPU share of
// one core and the bytes per snapshot. The publishing "agents" run in a separate process, so
// their cost is not counted as the runner's.
//
// Each agent heartbeats on the same second, as real ones do; the runner listens to those too.
// The runner also reads the summary and the series once a second, as an open dashboard (and
// `--abort-on-fail`) does: merged histograms are read, so the merge happens within the window.
//
// Usage: npm run build && node bench/cluster-merge.mjs [--agents 100] [--names 50] [--seconds 10]
//        [--hits-per-name 100] [--workers 1] [--no-dashboard] [--no-heartbeats] [--spread-ms 50] [--smoke]
//        --spread-ms S: agents snapshot at the turn of each second of their own clocks (workers
//        tick on the wall clock); their snapshots reach the broker spread over S ms (clock skew,
//        busy event loops). 1000: as if nothing aligned them (one wake-up per agent).
//        (needs nats-server: apt-get install nats-server)
//        --workers W: each agent's second is recorded by W workers (sharing the hits) and merged
//        in the agent, as agents do: still one snapshot per agent per second for the runner.
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { flag, option } from './lib/args.mjs'

const root = fileURLToPath(new URL('..', import.meta.url))
const dist = (p) => pathToFileURL(join(root, 'dist', p)).href
if (!existsSync(join(root, 'dist/cluster/run-watcher.js'))) {
  console.error('build first: npm run build')
  process.exit(2)
}

function arg(name, fallback) {
  const given = option(`--${name}`, undefined)
  return given === undefined ? fallback : Number(given)
}

const [{ Recorder }, { SnapshotMerger }, protocol, { connectBroker }] = await Promise.all([
  import(dist('stats/recorder.js')),
  import(dist('stats/snapshot-merge.js')),
  import(dist('cluster/protocol.js')),
  import(dist('cluster/nats-connection.js')),
])

/**
 * Realistic one-second deltas of an agent: `names` endpoints, `hits` hits each, a few errors and
 * failures, recorded by `workers` workers and merged as the agent merges them.
 */
function buildPool(size, names, hits, workers) {
  let seed = 7
  const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff)
  let now = 1_000_000
  const recs = Array.from({ length: workers }, (_, w) => new Recorder({ source: `agent/worker-${w}`, now: () => now }))
  const merger = new SnapshotMerger('agent', workers)
  const pool = []
  for (let p = 0; p < size; p++) {
    for (let e = 0; e < names; e++) {
      for (let i = 0; i < hits; i++) {
        const us = Math.exp(Math.log(2000) + rand() * 2) * (1 + e / 20) // ~2 ms .. ~40 ms
        const err = rand() < 0.001 ? 'ECONNRESET' : null
        const status = err ? 0 : rand() < 0.01 ? 404 : 200
        recs[i % workers].recordHit(e % 5 === 0 ? 'POST' : 'GET', `/api/v1/resource-${e}/{id}`, status, us, err ? 0 : us / 2, i === 0 ? 300 : 0, 2048, 256, err)
      }
    }
    for (let t = 0; t < names * hits / 4; t++) {
      recs[t % workers].recordTest(t % 200 === 0 ? 'failure' : 'pass', 'TestApi.test_resource', { kind: 'AssertionError', message: 'expected 200, got 404', stack: 'AssertionError: expected 200, got 404\n    at TestApi.test_resource (test_api.ts:42:7)' })
    }
    recs[0].incrCounter('orders', 17)
    now += 1000
    for (const rec of recs) merger.add(rec.snapshot(false))
    pool.push(merger.take(false))
  }
  return pool
}

// ---- the simulated agents (child process) -------------------------------------------------
if (process.argv[2] === '--publish') {
  const [, , , url, runId, poolFile, agentsText, secondsText, spreadText, heartbeatsText] = process.argv
  const agents = Number(agentsText)
  const seconds = Number(secondsText)
  const spreadMs = Number(spreadText)
  const pool = JSON.parse(readFileSync(poolFile, 'utf8'))
  const { jetstream } = await import('@nats-io/jetstream')
  const nc = await connectBroker({ servers: [url] }, { name: 'bench agents' })
  const js = jetstream(nc)
  const enc = new TextEncoder()
  let hits = 0
  let bytes = 0
  let messages = 0
  const start = Date.now()
  for (let sec = 0; sec < seconds; sec++) {
    const pending = []
    for (let a = 0; a < agents; a++) {
      {
        const base = pool[(a + sec) % pool.length]
        const snapshot = { ...base, source: `agent-${a}`, seq: sec, final: sec === seconds - 1 }
        const message = { type: 'run.snapshot', runId, agentId: `agent-${a}`, snapshot }
        const data = protocol.encode(message) // what an agent's Outbox sends: binary (cluster/snapshot-codec.ts)
        bytes += data.length
        messages++
        hits += snapshot.endpoints.reduce((t, e) => t + e.hits, 0)
        pending.push(js.publish(protocol.subjects.runSnapshot(runId, `agent-${a}`), data, { msgID: `snapshot:${snapshot.source}:${snapshot.seq}`, timeout: 10_000 }))
        // And its heartbeat, on the same second (core NATS, as src/cluster/agent.ts sends it).
        if (heartbeatsText === 'yes') {
          const info = { agentId: `agent-${a}`, host: 'bench', pid: a, version: protocol.LOADS_VERSION, cores: 2, workers: 1, state: 'running', runId, address: 'bench', startedMs: start }
          nc.publish(protocol.subjects.heartbeat(`agent-${a}`), protocol.encode({ type: 'agent.heartbeat', runId, agentId: `agent-${a}`, info }))
        }
      }
      // Agents snapshot at the turn of each second of their clocks (src/util/aligned-timer.ts);
      // clocks and event loops differ: spread over the first `spreadMs` of the second.
      const due = start + sec * 1000 + ((a + 1) * spreadMs) / agents
      const wait = due - Date.now()
      if (wait > 0) await new Promise((r) => setTimeout(r, wait))
    }
    await Promise.all(pending)
  }
  for (let a = 0; a < agents; a++) {
    const finished = { type: 'run.event', runId, agentId: `agent-${a}`, event: 'finished', atMs: Date.now(), reason: 'done' }
    await js.publish(protocol.subjects.runEvent(runId, `agent-${a}`), enc.encode(JSON.stringify(finished)), { msgID: `finished:${a}` })
  }
  process.stdout.write(`${JSON.stringify({ hits, bytes, messages })}\n`)
  await nc.drain()
  process.exit(0)
}

// ---- the runner (this process) --------------------------------------------------------------
// --smoke: a few agents for a few seconds, so CI sees the harness work (nothing judged).
const SMOKE = flag('--smoke')
const AGENTS = arg('agents', SMOKE ? 5 : 100)
const NAMES = arg('names', SMOKE ? 5 : 50)
const SECONDS = arg('seconds', SMOKE ? 2 : 10)
const HITS = arg('hits-per-name', SMOKE ? 10 : 100)
const WORKERS = arg('workers', 1)
const DASHBOARD = !flag('--no-dashboard')
const SPREAD_MS = Math.min(1000, arg('spread-ms', 50))
const HEARTBEATS = !flag('--no-heartbeats')
const WARMUP = SMOKE ? 1 : 3

const natsServer = ['/usr/sbin/nats-server', '/usr/local/bin/nats-server', '/usr/bin/nats-server'].find((p) => existsSync(p)) ??
  (spawnSync('sh', ['-c', 'command -v nats-server']).stdout?.toString().trim() || undefined)
if (!natsServer) {
  console.error('nats-server is needed: sudo apt-get install nats-server')
  process.exit(2)
}
const [{ jetstream, jetstreamManager }, { Aggregator }, { RunWatcher }, { ConnectionWatch }, { createRunStream }] = await Promise.all([
  import('@nats-io/jetstream'),
  import(dist('stats/aggregator.js')),
  import(dist('cluster/run-watcher.js')),
  import(dist('cluster/connection-watch.js')),
  import(dist('cluster/run-stream.js')),
])

const port = await new Promise((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const p = s.address().port
    s.close(() => resolve(p))
  })
})
const dir = mkdtempSync(join(tmpdir(), 'loads-bench-cluster-'))
const nats = spawn(natsServer, ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', join(dir, 'store')], { stdio: ['ignore', 'ignore', 'pipe'] })
await new Promise((resolve, reject) => {
  let log = ''
  nats.stderr.on('data', (d) => {
    log = (log + d).slice(-4000)
    if (log.includes('Server is ready')) resolve()
  })
  nats.once('exit', () => reject(new Error(`nats-server exited:\n${log}`)))
})
const url = `nats://127.0.0.1:${port}`

console.log(`building ${AGENTS} agents' snapshots: ${NAMES} URL names × ${HITS} hits per second each…`)
const pool = buildPool(8, NAMES, HITS, WORKERS)
const poolFile = join(dir, 'pool.json')
writeFileSync(poolFile, JSON.stringify(pool))

const nc = await connectBroker({ servers: [url] }, { name: 'bench runner' })
const js = jetstream(nc)
const jsm = await jetstreamManager(nc)
const runId = 'bench'
await createRunStream(jsm, runId)
const agentIds = Array.from({ length: AGENTS }, (_, a) => `agent-${a}`)
const meta = { type: 'run.meta', runId, agentId: null, address: 'bench', plan: { steps: [{ users: 1, durationMs: SECONDS * 1000 }] }, config: {}, agents: agentIds, startMs: Date.now(), version: protocol.LOADS_VERSION, detached: false }
await js.publish(protocol.subjects.runMeta(runId), new TextEncoder().encode(JSON.stringify(meta)), { msgID: 'meta' })

const aggregator = new Aggregator({ startMs: Date.now() })
let merged = 0
/** Snapshots kept to time the merge alone afterwards, away from NATS and the publisher. */
const sample = []
let window = undefined
const watcher = new RunWatcher({
  nc, js, jsm, watch: new ConnectionWatch(nc), runId,
  onSnapshot: (s) => {
    if (aggregator.add(s)) aggregator.latest() // what the progress line reads after each snapshot
    if (window && !window.end) {
      merged++
      if (sample.length < 300) sample.push(s)
    }
  },
  onStep: () => {},
  onNotice: () => {},
})
watcher.expect(agentIds)
await watcher.start()

// What an open dashboard reads every second (src/report/dashboard: liveView).
const reader = DASHBOARD ? setInterval(() => {
  aggregator.summary()
  aggregator.series()
}, 1000) : undefined

const publisher = spawn(process.execPath, [fileURLToPath(import.meta.url), '--publish', url, runId, poolFile, String(AGENTS), String(SECONDS + WARMUP + 1), String(SPREAD_MS), HEARTBEATS ? 'yes' : 'no'], { stdio: ['ignore', 'pipe', 'inherit'] })
let published = ''
publisher.stdout.on('data', (d) => (published += d))
const publisherDone = new Promise((resolve) => publisher.once('exit', resolve))

await new Promise((r) => setTimeout(r, WARMUP * 1000))
window = { cpu: process.cpuUsage(), t0: process.hrtime.bigint(), end: false }
await new Promise((r) => setTimeout(r, SECONDS * 1000))
const cpu = process.cpuUsage(window.cpu)
const wallUs = Number(process.hrtime.bigint() - window.t0) / 1000
window.end = true
const rss = process.memoryUsage().rss
clearInterval(reader)

await publisherDone
await watcher.done()
const totals = JSON.parse(published.trim().split('\n').pop())
const summary = aggregator.summary()
await watcher.close()
await nc.drain()
nats.kill('SIGTERM')
rmSync(dir, { recursive: true, force: true })

// The merge alone, in steady state: the same snapshots again (as later seconds) into an
// aggregator that has seen them once, in a tight loop, away from NATS and the publisher, and
// read as the window above read them (which is when their histograms are added).
const alone = new Aggregator({ startMs: Date.now() })
for (const s of sample) alone.add(s)
const m0 = process.cpuUsage()
let n = 0
for (const s of sample) {
  if (alone.add({ ...s, seq: s.seq + 1_000_000 })) alone.latest()
  // A second's worth of snapshots, then what the dashboard reads (this is where they are added).
  if (++n % AGENTS === 0 && DASHBOARD) alone.series()
}
alone.summary()
const m = process.cpuUsage(m0)
const mergeMs = (m.user + m.system) / 1000 / sample.length
const share = ((cpu.user + cpu.system) / wallUs) * 100
const perSnapshotBytes = totals.bytes / totals.messages
const perSec = merged / (wallUs / 1e6)
console.log(`
cluster merge: ${AGENTS} agents (${WORKERS} worker(s) each, merged in the agent), one snapshot per second each (spread over ${SPREAD_MS} ms), ${NAMES} URL names, ${HITS} hits per name per second${HEARTBEATS ? ', heartbeats' : ''}${DASHBOARD ? ', summary and series read every second (dashboard)' : ''}
  snapshots merged:        ${merged} in ${(wallUs / 1e6).toFixed(1)} s (${perSec.toFixed(0)}/s; ${(perSec * NAMES * HITS).toFixed(0)} hits/s across the cluster)
  runner CPU:              ${share.toFixed(1)}% of one core (user ${(cpu.user / 1000).toFixed(0)} ms, system ${(cpu.system / 1000).toFixed(0)} ms)   goal: under 10%
  of which the merge:      ${mergeMs.toFixed(2)} ms CPU per snapshot, steady state, timed alone (${((mergeMs * perSec) / 10).toFixed(1)}% of one core; the rest is receiving: NATS, JetStream, decoding)
  bytes per snapshot:      ${perSnapshotBytes.toFixed(0)} (binary on the wire, ${(perSnapshotBytes / NAMES).toFixed(0)} per URL name; ${((perSnapshotBytes * perSec) / 1e6).toFixed(2)} MB/s into the runner)
  runner memory:           ${(rss / 1e6).toFixed(0)} MB RSS
  nothing lost:            ${summary.hits === totals.hits ? 'yes' : 'NO'} (published ${totals.hits} hits, merged ${summary.hits})
  verdict:                 ${SMOKE ? '(smoke: not judged)' : `${share < 10 ? 'PASS' : 'OVER GOAL'} (${share.toFixed(1)}% ${share < 10 ? '<' : '≥'} 10%)`}`)
process.exit(summary.hits === totals.hits ? 0 : 1)
