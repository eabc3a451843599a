import { execFileSync, spawn } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { beforeEach, describe, expect, it } from 'vitest'
import { testTemp } from '../helpers/temp.js'

/**
 * `npm run bench -- --smoke` end to end: the harness starts nginx, runs every tool for a couple of
 * seconds and writes its table and JSON. Only the shape is checked — never a rate: a benchmark is
 * not a timed test, and a slow or busy machine must not fail CI.
 */
const root = fileURLToPath(new URL('../..', import.meta.url))
// A folder of each attempt's own (a retry must not find the failed attempt's results files beside
// its own); test/helpers/temp.ts removes them when the file ends.
let out: string
beforeEach(() => {
  out = testTemp('loads-bench-smoke-')
})

function runSmoke(script = 'bench/run.mjs', extra: string[] = []): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(root, script), '--smoke', '--out', out, ...extra], { cwd: root })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}

const TOOLS = ['wrk (C, 1 thread)', 'autocannon', 'Loads TestCase (1 worker)', 'undici Pool loop', 'Locust FastHttpUser', 'Locust HttpUser']

describe('bench smoke', () => {
  it('runs every tool against pinned nginx and writes a well-formed table and results file', { timeout: 240_000 }, async () => {
    const { code, stdout, stderr } = await runSmoke('bench/run.mjs', ['--scene', 'http'])
    expect(code, stderr).toBe(0)
    const lines = stdout.trim().split('\n')
    const header = lines.findIndex((l) => l.startsWith('| tool |'))
    expect(header).toBeGreaterThan(0)
    const columns = lines[header]!.split('|').length
    const rows = lines.slice(header + 2).filter((l) => l.startsWith('| '))
    expect(rows.map((r) => r.split('|')[1]!.trim())).toEqual(TOOLS)
    for (const row of rows) {
      expect(row.split('|')).toHaveLength(columns)
      // A tool either ran (a request rate counted by nginx) or says why it was skipped.
      expect(row).toMatch(/^\| [^|]+ \| (\d+|skipped: [^|]+) \|/)
    }
    // Loads itself always runs, and nginx saw every request Loads says it made.
    const loads = rows.find((r) => r.startsWith('| Loads'))!.split('|').map((c) => c.trim())
    expect(Number(loads[2])).toBeGreaterThan(0)
    const [own, counted] = loads[9]!.split(' / ').map(Number)
    expect(own).toBe(counted)

    const files = readdirSync(out).filter((f) => f.endsWith('-smoke.json'))
    expect(files).toHaveLength(1)
    const result = JSON.parse(readFileSync(join(out, files[0]!), 'utf8')) as Record<string, any>
    expect(result.machine).toMatchObject({ cpuModel: expect.any(String), cores: expect.any(Number), node: process.version, kernel: expect.any(String) })
    expect(result.scene).toMatchObject({ connections: 50, smoke: true })
    expect(result.summary.map((r: { label: string }) => r.label)).toEqual(TOOLS)
    expect(result.table).toBe(stdout.trim())
    // Loads against autocannon within each round (one round in a smoke run), when both ran.
    const ran = (tool: string) => result.runs.find((r: { tool: string; skipped?: string }) => r.tool === tool && r.skipped === undefined)
    const byRound = result.summary.find((r: { tool: string }) => r.tool === 'loads').vsAutocannonByRound
    if (ran('autocannon') === undefined) expect(byRound).toEqual([])
    else {
      const ratio = ran('loads').reqPerSec / ran('autocannon').reqPerSec
      expect(byRound).toEqual([ratio])
      expect(stdout).toContain(`Loads ÷ autocannon in each round (run back to back): ${ratio.toFixed(2)}`)
    }
  })

  it('TLS and HTTP/2 (npm run bench -- --scene tls): every tool against nginx over TLS, Loads\' hits equal what nginx counted, ratios per round', { timeout: 240_000 }, async () => {
    const { code, stdout, stderr } = await runSmoke('bench/run.mjs', ['--scene', 'tls'])
    expect(code, stderr).toBe(0)
    const rows = stdout.trim().split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| tool') && !l.startsWith('| ---'))
    expect(rows.map((r) => r.split('|')[1]!.trim())).toEqual(['wrk, HTTPS/1.1', 'autocannon, HTTPS/1.1', 'Loads TestCase, HTTPS/1.1', 'h2load, HTTP/2 (-m 1)', 'Loads TestCase, --http2'])
    for (const label of ['Loads TestCase, HTTPS/1.1', 'Loads TestCase, --http2']) {
      const cells = rows.find((r) => r.startsWith(`| ${label} `))!.split('|').map((c) => c.trim())
      expect(Number(cells[2])).toBeGreaterThan(0)
      const [own, counted] = cells[7]!.split(' / ').map(Number)
      expect(own).toBe(counted)
    }
    expect(stdout).toMatch(/Loads HTTPS\/1\.1 ÷ wrk in each round \(run back to back\): \d+\.\d\d; median/)
    expect(stdout).toMatch(/Loads --http2 ÷ h2load in each round \(run back to back\): \d+\.\d\d; median/)
    const file = readdirSync(out).find((f) => f.startsWith('tls-h2-') && f.endsWith('-smoke.json'))!
    const result = JSON.parse(readFileSync(join(out, file), 'utf8')) as { runs: Array<{ tool: string; loadAverage: string }> }
    expect(result.runs.map((r) => r.tool).sort()).toEqual(['autocannon', 'h2load', 'loads-h2', 'loads-https', 'wrk'])
    expect(result.runs.every((r) => /^[\d.]+ [\d.]+ [\d.]+$/.test(r.loadAverage))).toBe(true)
  })

  it('gRPC (npm run bench -- --scene grpc): Loads and the bare grpc-js loops (client, channel), each against a fresh server, hits equal its count, ratios per round', { timeout: 120_000 }, async () => {
    const { code, stdout, stderr } = await runSmoke('bench/run.mjs', ['--scene', 'grpc'])
    expect(code, stderr).toBe(0)
    const rows = stdout.trim().split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| tool') && !l.startsWith('| ---'))
    expect(rows.map((r) => r.split('|')[1]!.trim())).toEqual(['Loads TestCase, gRPC unary (1 worker)', 'bare @grpc/grpc-js loop', 'bare @grpc/grpc-js loop, calls on the channel'])
    for (const row of rows) {
      const cells = row.split('|').map((c) => c.trim())
      expect(Number(cells[2])).toBeGreaterThan(0)
      const [own, counted] = cells[7]!.split(' / ').map(Number)
      expect(own).toBe(counted)
    }
    expect(stdout).toMatch(/Loads ÷ bare grpc-js loop in each round \(run back to back\): \d+\.\d\d; median/)
    expect(stdout).toMatch(/Loads ÷ bare loop on the channel in each round \(run back to back\): \d+\.\d\d; median/)
  })

  it('gRPC co-run (bench/grpc-corun.mjs): Loads and the bare loop at once, CPU per call of each and their ratio', { timeout: 120_000 }, async () => {
    const { code, stdout, stderr } = await runSmoke('bench/grpc-corun.mjs')
    expect(code, stderr).toBe(0)
    expect(stdout).toMatch(/^round 1: Loads [1-9]\d* calls, [\d.]+ CPU-µs\/call \(threads [\d +]+\) · bare [1-9]\d* calls, [\d.]+ CPU-µs\/call \(threads [\d +]+\) · bare ÷ Loads \d+\.\d{3}$/m)
    expect(stdout).toMatch(/^bare ÷ Loads CPU per call: \d+\.\d{3}; median \d+\.\d{3}$/m)
  })

  it('layers (bench/layers.mjs): a bare loop beside the Session, then the Session beside Loads, each against its own nginx, CPU per request and the ratios', { timeout: 120_000 }, async () => {
    const { code, stdout, stderr } = await runSmoke('bench/layers.mjs', ['--duration', '3'])
    expect(code, stderr).toBe(0)
    const row = stdout.trim().split('\n').find((l) => l.startsWith('| 1 |'))!
    // | 1 | bare · session | session · loads | Session ÷ bare | Loads ÷ Session | Loads ÷ bare |
    const cells = row.split('|').slice(2, -1).map((c) => c.trim())
    const [bare, session1] = cells[0]!.split(' · ').map(Number)
    const [session2, loads] = cells[1]!.split(' · ').map(Number)
    for (const figure of [bare, session1, session2, loads]) expect(figure).toBeGreaterThan(0)
    // Each ratio is taken within its own pair's window; the last is their product.
    expect(Number(cells[2])).toBeCloseTo(session1! / bare!, 2)
    expect(Number(cells[3])).toBeCloseTo(loads! / session2!, 2)
    expect(Number(cells[4])).toBeCloseTo(Number(cells[2]) * Number(cells[3]), 2)
    expect(stdout).toMatch(/^medians: Session ÷ bare \d+\.\d{3}, Loads ÷ Session \d+\.\d{3}, Loads ÷ bare \d+\.\d{3}$/m)
    const file = readdirSync(out).find((f) => f.startsWith('layers-') && f.endsWith('-smoke.json'))!
    type Side = { problem: string | null; serverRequests: number }
    const result = JSON.parse(readFileSync(join(out, file), 'utf8')) as { runs: Record<string, Record<string, Side>>[] }
    const problems = result.runs.flatMap((r) => [r['bare+session']!.bare!.problem, r['bare+session']!.session!.problem, r['session+loads']!.session!.problem, r['session+loads']!.loads!.problem])
    expect(problems).toEqual([null, null, null, null])
  })

  it('soak: samples the RSS of a short run and reports it in one table row', { timeout: 120_000 }, async () => {
    const { code, stdout, stderr } = await runSmoke('bench/soak.mjs')
    expect(code, stderr).toBe(0)
    const row = stdout.trim().split('\n').at(-1)!
    // | hits | RSS after warm-up | min | max | at the end | growth | trend | verdict |
    expect(row).toMatch(/^\| [1-9]\d* \| [\d.]+ \| [\d.]+ \| [\d.]+ \| [\d.]+ \| -?[\d.]+% \| (-?[\d.]+|NaN) \| \(smoke: not judged\) \|$/)
  })

  it('accuracy: every hit Loads reports against the 50 ms server is a request the server counted', { timeout: 120_000 }, async () => {
    const { code, stderr } = await runSmoke('bench/accuracy.mjs')
    expect(code, stderr).toBe(0)
    const file = readdirSync(out).find((f) => f.startsWith('accuracy-') && f.endsWith('-smoke.json'))!
    const { result } = JSON.parse(readFileSync(join(out, file), 'utf8')) as { result: Record<string, any> }
    expect(result.exitCode).toBe(0)
    expect(result.problems).toBeNull()
    expect(result.hits).toBeGreaterThan(0)
    expect(result.hits).toBe(result.serverRequests)
    // Timings are the benchmark's to judge (bench/accuracy.mjs), not a test's.
    expect(result.targets).toBeNull()
  })

  it('accuracy split: splits the hits of Loads and of the bare Node client the same way', { timeout: 120_000 }, async () => {
    for (const extra of [[], ['--bare']]) {
      const { code, stdout, stderr } = await runSmoke('bench/accuracy-split.mjs', extra)
      expect(code, stderr).toBe(0)
      expect(stdout).toContain(extra.length === 0 ? '1 worker' : 'the bare Node client')
      const hits = Number(/^all (\d+) hits, ms:/m.exec(stdout)?.[1])
      expect(hits).toBeGreaterThan(0)
      for (const part of ['request path', 'server', 'response path']) expect(stdout).toMatch(new RegExp(`^\\| ${part} \\|( +-?[\\d.]+ \\|){5}$`, 'm'))
      expect(stdout).toMatch(/^bursts after 2 s: \d+/m)
    }
  })

  it('generator probe: measures its own cost directly and A/B, and says the machine load beside it', { timeout: 120_000 }, async () => {
    const { code, stdout, stderr } = await runSmoke('bench/generator-probe.mjs')
    expect(code, stderr).toBe(0)
    expect(stdout).toMatch(/^uptime before: .*load average/m)
    expect(stdout).toMatch(/^direct: sample\(\) [\d.]+ µs × 1\/s \+ tick \d+ ns × 100\/s = [\d.]+% of a thread$/m)
    const file = readdirSync(out).find((f) => f.startsWith('generator-probe-') && f.endsWith('-smoke.json'))!
    const result = JSON.parse(readFileSync(join(out, file), 'utf8')) as { ab: { pairs: { on: number; off: number }[] } }
    expect(result.ab.pairs).toHaveLength(2)
    for (const p of result.ab.pairs) expect(Math.min(p.on, p.off)).toBeGreaterThan(0)
  })

  it('memory: every user held its own connection open at once, and every run ended well', { timeout: 120_000 }, async () => {
    const { code, stderr } = await runSmoke('bench/memory.mjs')
    expect(code, stderr).toBe(0)
    const file = readdirSync(out).find((f) => f.startsWith('memory-') && f.endsWith('-smoke.json'))!
    const { results } = JSON.parse(readFileSync(join(out, file), 'utf8')) as { results: Array<Record<string, any>> }
    expect(results).toHaveLength(1)
    const [r] = results as [Record<string, any>]
    expect(r).toMatchObject({ users: 1000, processes: 1, workers: 1, failedRuns: 0, exitCodes: [0] })
    // nginx's active connections, the stub_status reader's own left out: the 1,000 users' only
    // (the readiness probe closes its socket, so nothing else is open).
    expect(r.peakOpenConnections).toBe(1000)
    expect(r.hits).toBeGreaterThan(0)
    expect(r.peakRssMB).toBeGreaterThan(0)
  })

  it('cores: 1 and 2 workers each made exactly the requests nginx counted', { timeout: 180_000 }, async () => {
    const { code, stderr } = await runSmoke('bench/cores.mjs')
    expect(code, stderr).toBe(0)
    const file = readdirSync(out).find((f) => f.startsWith('cores-') && f.endsWith('-smoke.json'))!
    const { runs } = JSON.parse(readFileSync(join(out, file), 'utf8')) as { runs: Array<Record<string, any>> }
    expect(runs.map((r) => [r.workers, r.users, r.problem])).toEqual([
      [1, 50, null],
      [2, 100, null],
    ])
    for (const r of runs) {
      expect(r.hits).toBeGreaterThan(0)
      expect(r.hits).toBe(r.serverRequests)
    }
  })

  it('A/B (bench/ab.mjs): an old commit built in a temporary worktree against this checkout, in alternating pairs beside wrk; the worktree is gone afterwards', { timeout: 240_000 }, async () => {
    const worktrees = () => execFileSync('git', ['-C', root, 'worktree', 'list', '--porcelain'], { encoding: 'utf8' })
    // HEAD built afresh is the old side; this checkout's dist/ (built for the e2e tests) the new.
    const { code, stdout, stderr } = await runSmoke('bench/ab.mjs', ['--old', 'HEAD', '--no-build'])
    expect(code, stderr).toBe(0)
    const rows = stdout.trim().split('\n').filter((l) => /^\| \d+ \|/.test(l))
    expect(rows.map((r) => r.split('|')[2]!.trim())).toEqual(['old', 'new'])
    for (const row of rows) {
      const cells = row.split('|').map((c) => c.trim())
      expect(Number(cells[3])).toBeGreaterThan(0) // wrk req/s
      expect(Number(cells[4])).toBeGreaterThan(0) // Loads req/s
      const [own, counted] = cells[9]!.split(' / ').map(Number)
      expect(own).toBe(counted)
    }
    expect(stdout).toMatch(/^new ÷ old, median over 1 pair\(s\): req\/s [\d.]+, Loads ÷ wrk [\d.]+, CPU-s per 100k requests [\d.]+/m)
    expect(stdout).toMatch(/load average [\d.]+ [\d.]+ [\d.]+ at the start/)
    expect(worktrees()).not.toContain('loads-ab-')
    const file = readdirSync(out).find((f) => /^ab-\d/.test(f) && f.endsWith('-smoke.json'))!
    const result = JSON.parse(readFileSync(join(out, file), 'utf8')) as { runs: unknown[]; old: { commit: string }; new: { commit: string } }
    expect(result.runs).toHaveLength(2)
    expect(result.old.commit).toBe(result.new.commit)
  })

  it('A/B side by side (bench/ab.mjs --corun --tls): both builds at once on one core, each against its own nginx, CPU per request over one window', { timeout: 240_000 }, async () => {
    const worktrees = () => execFileSync('git', ['-C', root, 'worktree', 'list', '--porcelain'], { encoding: 'utf8' })
    const { code, stdout, stderr } = await runSmoke('bench/ab.mjs', ['--old', 'HEAD', '--no-build', '--corun', '--tls'])
    expect(code, stderr).toBe(0)
    expect(stdout).toMatch(/^A\/B side by side .*both at once on core 1, HTTPS\/1\.1, each against its own nginx/m)
    const rows = stdout.trim().split('\n').filter((l) => /^\| \d+ \|/.test(l))
    expect(rows).toHaveLength(1)
    const cells = rows[0]!.split('|').map((c) => c.trim())
    expect(Number(cells[2])).toBeGreaterThan(0) // the shared window, s
    expect(Number(cells[3])).toBeGreaterThan(0) // old req/s
    expect(Number(cells[4])).toBeGreaterThan(0) // new req/s
    // Each side's hits are what its own nginx counted.
    for (const side of cells[8]!.split(' · ')) {
      const [own, counted] = side.split(' / ').map(Number)
      expect(own).toBeGreaterThan(0)
      expect(own).toBe(counted)
    }
    expect(stdout).toMatch(/^new ÷ old CPU-s per 100k requests, median over 1 pair\(s\): [\d.]+ \(below 1: cheaper\)/m)
    expect(worktrees()).not.toContain('loads-ab-')
    const file = readdirSync(out).find((f) => f.startsWith('ab-corun-') && f.endsWith('-smoke.json'))!
    const result = JSON.parse(readFileSync(join(out, file), 'utf8')) as { scene: { mode: string }; runs: { side: string; problem: string | null }[] }
    expect(result.scene.mode).toBe('corun')
    expect(result.runs.map((r) => [r.side, r.problem])).toEqual([
      ['old', null],
      ['new', null],
    ])
  })

  it('cluster merge: the runner merges every hit the simulated agents published', { timeout: 120_000 }, async () => {
    const { code, stdout, stderr } = await runSmoke('bench/cluster-merge.mjs')
    expect(code, stderr).toBe(0)
    expect(stdout).toMatch(/nothing lost: +yes \(published (\d+) hits, merged \1\)/)
    expect(stdout).toMatch(/bytes per snapshot: +[1-9]\d* \(binary on the wire/)
    expect(stdout).toContain('(smoke: not judged)')
  })
})
