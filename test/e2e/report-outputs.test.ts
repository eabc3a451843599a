import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { LOADS, LOADS_RUNNER, runBin, tempProject, testResult } from '../helpers/cli.js'
import { startCountingServer, type CountingServer } from '../helpers/counting-server.js'
import type { RunResult } from '../../src/report/result.js'

// Every 10th request to /flaky gets a 500; the test itself does not check the status.
const EXAMPLE = `
import { TestCase } from 'loads-runner'

export class TestApi extends TestCase {
  async test_flaky() {
    await this.session.get(process.env.TARGET + '/flaky')
  }

  async test_strict() {
    const res = await this.session.get(process.env.TARGET + '/flaky')
    this.assertEqual(res.status, 200)
  }
}
`

function hitsLine(stdout: string): number {
  const m = /^Hits: (\d+)/m.exec(stdout)
  if (!m) throw new Error(`no Hits line in:\n${stdout}`)
  return Number(m[1])
}

describe('run outputs and thresholds, end to end', () => {
  let server: CountingServer
  let dir: string
  beforeAll(async () => {
    let n = 0
    server = await startCountingServer((_req, res) => {
      n++
      res.writeHead(n % 10 === 0 ? 500 : 200, { 'content-type': 'text/plain' })
      res.end('ok')
    })
    dir = tempProject({ 'example.ts': EXAMPLE })
  })
  afterAll(() => server.close())

  it('writes json, csv and junit at once (and null writes nothing), with the counts the server saw', async () => {
    const before = server.count
    const r = await runBin(
      LOADS_RUNNER,
      ['example.TestApi.test_flaky', '-u', '5', '-c', '20', '-q', '--output', 'json:out/r.json', '--output', 'csv:out/r.csv', '--output', 'junit:out/r.xml', '--output', 'null'],
      { cwd: dir, env: { TARGET: server.url } },
    )
    expect(r.code).toBe(0)
    expect(server.count - before).toBe(100)
    expect(r.stderr.trim().split('\n')).toEqual([
      '--output json:out/r.json: wrote out/r.json',
      '--output csv:out/r.csv: wrote out/r.csv',
      '--output csv:out/r.csv: wrote out/r.series.csv',
      '--output csv:out/r.csv: wrote out/r.details.csv',
      '--output junit:out/r.xml: wrote out/r.xml',
    ])
    const json = JSON.parse(readFileSync(path.join(dir, 'out/r.json'), 'utf8')) as RunResult
    expect(json.summary.hits).toBe(100)
    expect(json.summary.endpoints.map((e) => [e.name, e.hits, (e.statuses['200'] ?? 0) + (e.statuses['500'] ?? 0)])).toEqual([['/flaky', 100, 100]])
    expect(json.series.reduce((n, p) => n + p.hits, 0)).toBe(100)
    expect(json.run.plan).toEqual({ steps: [{ users: 5, hits: 20 }] })
    expect(json.histograms.endpoints).toHaveLength(1)
    const csv = readFileSync(path.join(dir, 'out/r.csv'), 'utf8').split('\r\n')
    expect(csv[1]).toMatch(/^GET,\/flaky,100,10,0,10,/)
    expect(readFileSync(path.join(dir, 'out/r.series.csv'), 'utf8')).toMatch(/^t_s,time_ms,hits,/)
    expect(readFileSync(path.join(dir, 'out/r.details.csv'), 'utf8').split('\r\n')[1]).toMatch(/^method,TestApi\.test_flaky,100,/)
    const xml = readFileSync(path.join(dir, 'out/r.xml'), 'utf8')
    expect(xml).toContain('<testcase classname="TestApi" name="test_flaky"')
    expect(xml).toMatch(/<testsuite name="loads: example.TestApi.test_flaky" package="loads" id="0" [^>]* tests="1" failures="0" errors="0"/)
    expect(xml).toContain('<property name="TestApi.test_flaky.runs" value="100"/>')
    expect(existsSync(path.join(dir, 'null'))).toBe(false)
  })

  it('judges thresholds on the merged results: exit 4, each shown with its measured value', async () => {
    const r = await runBin(
      LOADS_RUNNER,
      ['example.TestApi.test_flaky', '-u', '4', '-c', '25', '-w', '2', '-q', '--threshold', 'p95<10s', '--threshold', 'errors<1%', '--threshold', 'GET /flaky:hits>=100', '--output', 'junit:t.xml'],
      { cwd: dir, env: { TARGET: server.url } },
    )
    expect(r.code).toBe(4)
    expect(testResult(r.stdout)).toEqual({ run: 100, errors: 0, failures: 0 })
    const lines = r.stdout.split('\n')
    const at = lines.indexOf('Thresholds (1 of 3 failed):')
    expect(at).toBeGreaterThan(0)
    expect(lines[at + 1]).toMatch(/^ {2}pass {2}p95<10s +p95 [\d.]+ ms$/)
    expect(lines[at + 2]).toBe('  FAIL  errors<1%             errors 10.0% (10 of 100 hits)')
    expect(lines[at + 3]).toBe('  pass  GET /flaky:hits>=100  hits 100 hits')
    const xml = readFileSync(path.join(dir, 't.xml'), 'utf8')
    expect(xml).toContain('<failure message="errors&lt;1%: errors 10.0% (10 of 100 hits)" type="ThresholdFailed">')
  })

  it('exits 1, not 4, when test runs failed too', async () => {
    const r = await runBin(LOADS_RUNNER, ['example.TestApi.test_strict', '-u', '2', '-c', '10', '-q', '--threshold', 'errors<1%'], { cwd: dir, env: { TARGET: server.url } })
    expect(r.code).toBe(1)
    expect(r.stdout).toContain('  FAIL  errors<1%')
  })

  it('--abort-on-fail stops the run as soon as a count goes over its budget, and exits 4', async () => {
    const before = server.count
    const started = Date.now()
    const r = await runBin(LOADS_RUNNER, ['example.TestApi.test_flaky', '-u', '2', '-d', '60s', '-w', '1', '-q', '--threshold', 'errors<5', '--threshold', 'p99<10s', '--abort-on-fail'], {
      cwd: dir,
      env: { TARGET: server.url },
      timeoutMs: 50_000,
    })
    expect(Date.now() - started).toBeLessThan(30_000)
    expect(r.code).toBe(4)
    expect(r.stdout).toContain("the run was stopped early (--abort-on-fail): 'errors<5' failed for good")
    expect(r.stdout).toMatch(/ {2}FAIL {2}errors<5 +errors \d+ of \d+ hits/)
    expect(hitsLine(r.stdout)).toBe(server.count - before)
  })

  it('refuses a bad threshold, and --abort-on-fail without one, before running anything', async () => {
    const before = server.count
    const bad = await runBin(LOADS_RUNNER, ['example.TestApi.test_flaky', '--threshold', 'p95<fast'], { cwd: dir, env: { TARGET: server.url } })
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain("error: --threshold 'p95<fast': expected [METHOD NAME:]METRIC<VALUE")
    const alone = await runBin(LOADS_RUNNER, ['example.TestApi.test_flaky', '--abort-on-fail'], { cwd: dir, env: { TARGET: server.url } })
    expect(alone.code).toBe(2)
    expect(alone.stderr).toContain('error: --abort-on-fail needs at least one --threshold')
    const out = await runBin(LOADS_RUNNER, ['example.TestApi.test_flaky', '--output', 'xml:x.xml'], { cwd: dir, env: { TARGET: server.url } })
    expect(out.code).toBe(2)
    expect(out.stderr).toContain("error: --output 'xml:x.xml': unknown kind 'xml'")
    expect(server.count).toBe(before)
  })
})

describe('loads report, end to end', () => {
  let server: CountingServer
  let dir: string
  let delayMs = 0
  beforeAll(async () => {
    server = await startCountingServer((_req, res) => {
      setTimeout(() => {
        res.writeHead(200, { 'content-type': 'text/plain' })
        res.end('ok')
      }, delayMs)
    })
    dir = tempProject({ 'example.ts': EXAMPLE })
    const run = (out: string) => runBin(LOADS_RUNNER, ['example.TestApi.test_flaky', '-u', '4', '-c', '25', '-q', '--output', `json:${out}`], { cwd: dir, env: { TARGET: server.url } })
    expect((await run('fast.json')).code).toBe(0)
    delayMs = 40
    expect((await run('slow.json')).code).toBe(0)
  })
  afterAll(() => server.close())

  it('builds the HTML report next to the result by default', async () => {
    const r = await runBin(LOADS, ['report', 'fast.json'], { cwd: dir })
    expect(r.code).toBe(0)
    expect(r.stdout).toBe('wrote fast.html\n')
    const html = readFileSync(path.join(dir, 'fast.html'), 'utf8')
    expect(html).toMatch(/^<!doctype html>/)
    expect(html).toContain('<script id="loads-data" type="application/json">{"kind":"run"')
  })

  it('compares two runs: deltas per URL, the slower one flagged, --fail-on-regression exits 4', async () => {
    const r = await runBin(LOADS, ['report', 'fast.json', 'slow.json', '--fail-on-regression'], { cwd: dir })
    expect(r.code).toBe(4)
    expect(r.stdout.split('\n').slice(0, 2)).toEqual(['base:    fast.json', 'current: slow.json'])
    // Below the two runs side by side (test/e2e/compare.test.ts), the per-URL table.
    const lines = r.stdout.split('\n').slice(r.stdout.split('\n').findIndex((l) => l.startsWith('METHOD')) - 3)
    expect(lines[3]).toMatch(/^METHOD +NAME +HITS\/S +P50 ms +P95 ms +P99 ms +FAILED +FLAGS$/)
    // 40 ms more per request: the median rises, overall and for the URL (the rate falls too,
    // unless the machine is so busy that the fast run was slow as well).
    expect(lines[4]).toMatch(/^ +\(all\) +[\d.]+ → [\d.]+ \([-+][\d.]+%\) +[\d.]+ → [\d.]+ \(\+\d+%\) .* REGRESSED (HITS\/S, )?P50 ms/)
    expect(lines[5]).toMatch(/^GET +\/flaky +[\d.]+ → [\d.]+ \([-+][\d.]+%\) +[\d.]+ → [\d.]+ \(\+\d+%\) .* REGRESSED (HITS\/S, )?P50 ms/)
    expect(r.stdout).toMatch(/\n2 regressions \(tolerance 10%/)
    const same = await runBin(LOADS, ['report', 'slow.json', 'slow.json', '-o', 'same.html'], { cwd: dir })
    expect(same.code).toBe(0)
    expect(same.stdout).toContain('no regression (tolerance 10%)')
    expect(same.stdout).toContain('wrote same.html')
  })

  it('merges results exactly and judges thresholds on a saved result', async () => {
    const merged = await runBin(LOADS, ['report', 'fast.json', 'slow.json', '--merge', '-o', 'all.json', '--threshold', 'hits>=200', '--threshold', 'mean<10ms'], { cwd: dir })
    expect(merged.code).toBe(4)
    expect(merged.stdout).toMatch(/^wrote all\.json\nThresholds \(1 of 2 failed\):\n {2}pass {2}hits>=200 {2}hits 200 hits\n {2}FAIL {2}mean<10ms {2}mean \d+\.\d ms\n$/)
    const all = JSON.parse(readFileSync(path.join(dir, 'all.json'), 'utf8')) as RunResult
    expect(all.summary.hits).toBe(200)
    expect(all.summary.endpoints[0]!.latency.count).toBe(200)
    expect(all.thresholds.map((t) => t.pass)).toEqual([true, false])
  })

  it('says what is wrong with a file that is not a result', async () => {
    const r = await runBin(LOADS, ['report', 'example.ts'], { cwd: dir })
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/^error: .*example\.ts is not JSON/)
    const three = await runBin(LOADS, ['report', 'fast.json', 'slow.json', 'fast.json'], { cwd: dir })
    expect(three.code).toBe(2)
    expect(three.stderr).toContain('3 results given: compare takes two')
  })
})
