// Micro-benchmark of the stats hot path: ns per Recorder.recordHit, the cost and JSON size of a
// snapshot with 50 endpoints, and the cost of merging it in the Aggregator.
// Usage: node bench/micro-recorder.mjs   (uses dist/ when built, else bundles src/ with esbuild)
import { existsSync } from 'node:fs'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const root = fileURLToPath(new URL('..', import.meta.url))

async function load() {
  const dist = join(root, 'dist/stats')
  if (existsSync(join(dist, 'recorder.js')) && existsSync(join(dist, 'aggregator.js'))) {
    return {
      ...(await import(pathToFileURL(join(dist, 'recorder.js')).href)),
      ...(await import(pathToFileURL(join(dist, 'aggregator.js')).href)),
    }
  }
  const esbuild = await import('esbuild')
  const out = await esbuild.build({
    stdin: {
      contents: "export { Recorder } from './src/stats/recorder.ts'\nexport { Aggregator } from './src/stats/aggregator.ts'\n",
      resolveDir: root,
      loader: 'ts',
    },
    bundle: true, write: false, format: 'esm', platform: 'node', logLevel: 'warning',
  })
  const file = join(mkdtempSync(join(tmpdir(), 'loads-bench-')), 'stats.mjs')
  writeFileSync(file, out.outputFiles[0].text)
  return import(pathToFileURL(file).href)
}

const { Recorder, Aggregator } = await load()

// Pre-built inputs so the loop measures recordHit, not the benchmark.
const N = 1 << 16
const names = Array.from({ length: 10 }, (_, i) => `/api/items/${i}`)
const lat = new Float64Array(N)
const nameIdx = new Uint8Array(N)
let seed = 1
const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff)
for (let i = 0; i < N; i++) {
  lat[i] = Math.exp(Math.log(2000) + rand() * 2) // ~2 ms .. ~15 ms
  nameIdx[i] = Math.floor(rand() * names.length)
}

function run(rec, calls) {
  for (let i = 0; i < calls; i++) {
    const j = i & (N - 1)
    const status = (i & 1023) === 0 ? 500 : 200
    rec.recordHit('GET', names[nameIdx[j]], status, lat[j], lat[j] / 2, 0, 1024, 128, null)
  }
}

const rec = new Recorder({ source: 'bench' })
run(rec, 2_000_000) // warm-up: let the JIT settle
rec.snapshot()
const results = []
for (let round = 0; round < 5; round++) {
  const calls = 5_000_000
  const t0 = process.hrtime.bigint()
  run(rec, calls)
  const ns = Number(process.hrtime.bigint() - t0) / calls
  rec.snapshot()
  results.push(ns)
}
results.sort((a, b) => a - b)
console.log(`recordHit: ${results[2].toFixed(1)} ns/call median of 5 rounds (min ${results[0].toFixed(1)}, max ${results[4].toFixed(1)}), 10 endpoints`)

// One second's worth of traffic on 50 endpoints.
const wide = new Recorder({ source: 'host-1234/worker-3' })
const agg = new Aggregator()
function fill50() {
  for (let i = 0; i < 100_000; i++) {
    const j = i & (N - 1)
    const e = i % 50
    const status = i % 97 === 0 ? 404 : i % 101 === 0 ? 500 : 200
    const err = i % 1009 === 0 ? 'ECONNRESET' : null
    wide.recordHit(e % 5 === 0 ? 'POST' : 'GET', `/api/v1/resource-${e}/{id}`, err ? 0 : status, lat[j] * (1 + e / 10), err ? 0 : lat[j] / 2, i % 50 === 0 ? 300 : 0, 2048, 256, err)
  }
  for (let i = 0; i < 500; i++) wide.recordTest(i % 100 === 0 ? 'failure' : 'pass', 'TestApi.test_resource', { kind: 'AssertionError', message: 'expected 200, got 404', stack: 'AssertionError: expected 200, got 404\n    at TestApi.test_resource (test_api.ts:42:7)' })
  wide.incrCounter('orders', 17)
  wide.setActiveUsers(100)
}
fill50()
wide.snapshot()
const snapTimes = []
const addTimes = []
let bytes = 0
for (let r = 0; r < 10; r++) {
  fill50()
  const t0 = process.hrtime.bigint()
  const snap = wide.snapshot()
  snapTimes.push(Number(process.hrtime.bigint() - t0) / 1e6)
  bytes = Buffer.byteLength(JSON.stringify(snap))
  const t1 = process.hrtime.bigint()
  agg.add(snap)
  addTimes.push(Number(process.hrtime.bigint() - t1) / 1e6)
}
const med = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]
console.log(`snapshot, 50 endpoints x 2000 hits: ${bytes} bytes as JSON (${(bytes / 50).toFixed(0)} per endpoint)`)
console.log(`snapshot(): ${med(snapTimes).toFixed(2)} ms; Aggregator.add(): ${med(addTimes).toFixed(2)} ms (medians of 10)`)
