/**
 * Config-file scenarios on worker threads, against a real server that counts by path and notes
 * when each path was first hit: start offsets are measured where the load lands, counts are the
 * server's, per-scenario figures reach the summary, JSON, CSV and JUnit, and `scenario:`
 * thresholds judge each scenario alone.
 */
import { readFileSync } from 'node:fs'
import path from 'node:path'
import Ajv2020 from 'ajv/dist/2020.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunResult } from '../../src/report/result.js'
import { LOADS_RUNNER, runBin, tempProject, testResult } from '../helpers/cli.js'
import { startCountingServer, type CountingServer } from '../helpers/counting-server.js'

const SCENARIO_TEST = `import { TestCase } from 'loads-runner'
export class Browser extends TestCase {
  async test_browse() { await this.session.get('/browse') }
}
export class Buyer extends TestCase {
  async test_buy() {
    const res = await this.session.get('/buy/' + this.env.KIND + '/' + this.scenario)
    this.assertEqual(res.status, 200)
  }
}
`

const CONFIG = `# three scenarios side by side
[loads]
workers = 2

[scenario.browse]
test = "shop.ts:Browser"
users = 3
hits = 20

[scenario.buy]
test = "shop.ts:Buyer"
users = 2
hits = 5
start = "1500ms"
env = { KIND = "card" }

[scenario.late]
test = "shop.ts:Buyer"
rate = 10
duration = "1s"
start = "3s"
env = { KIND = "cash" }
tags = { team = "payments" }
`

let server: CountingServer
/** When each path was first received (performance.now(), ms). */
const firstAt = new Map<string, number>()
let dir: string
beforeAll(async () => {
  server = await startCountingServer((req, res) => {
    const p = (req.url ?? '/').split('?')[0]!
    if (!firstAt.has(p)) firstAt.set(p, performance.now())
    res.writeHead(p.startsWith('/buy/broken/') ? 500 : 200, { 'content-type': 'text/plain' })
    res.end('ok')
  })
  dir = tempProject({ 'shop.ts': SCENARIO_TEST, 'loads.toml': CONFIG, 'loads.ini': iniOf(CONFIG) })
})
afterAll(() => server.close())

/** The TOML above as INI (tables as dotted keys), its late scenario buying from a broken path. */
function iniOf(toml: string): string {
  return toml.replace(/^(env|tags) = \{ (\w+) = "(\w+)" \}$/gm, '$1.$2 = $3').replace('KIND = cash', 'KIND = broken')
}

describe('scenarios from the config file', () => {
  it('run side by side, each its own test, shape, env and start offset; figures per scenario everywhere', async () => {
    firstAt.clear()
    const before = server.count
    const r = await runBin(
      LOADS_RUNNER,
      ['--config', 'loads.toml', '--server-url', server.url, '--output', 'json:r.json', '--output', 'csv:r.csv', '--output', 'junit:r.xml',
        '--threshold', 'scenario:browse:hits>=60', '--threshold', 'scenario:buy:p95<10s', '--threshold', 'scenario:late:errors<1%', '--threshold', 'scenario:buy:hits>10'],
      { cwd: dir, timeoutMs: 60_000 },
    )
    // The last threshold fails (buy made 10 hits), so the exit code is the thresholds'.
    expect(r.code, r.stderr + r.stdout).toBe(4)
    expect(server.count - before).toBe(80)
    expect(server.countByPath.get('/browse')).toBe(60)
    expect(server.countByPath.get('/buy/card/buy')).toBe(10)
    // The open model: 10 runs/s for 1 s is exactly 10 scheduled starts.
    expect(server.countByPath.get('/buy/cash/late')).toBe(10)
    // Start offsets, measured at the server. The first scenario's first hit also carries the
    // workers' cold start (first session, first connection, code not yet optimised: 50-300 ms on a
    // loaded machine), so the offsets are judged between the later scenarios, within ±200 ms
    // (late starts 1.5 s after buy), and the first gap only loosely.
    const buy = firstAt.get('/buy/card/buy')!
    const late = firstAt.get('/buy/cash/late')!
    expect(late - buy).toBeGreaterThanOrEqual(1300)
    expect(late - buy).toBeLessThanOrEqual(1700)
    expect(buy - firstAt.get('/browse')!).toBeGreaterThanOrEqual(1000)
    expect(buy - firstAt.get('/browse')!).toBeLessThanOrEqual(1700)

    expect(testResult(r.stdout)).toEqual({ run: 80, errors: 0, failures: 0 })
    expect(r.stdout).toMatch(/scenarios browse: 3 users × 20 runs; buy \(at 1\.5s\): 2 users × 5 runs; late \(at 3s\): 10 runs\/s for 1s/)
    expect(r.stdout).toMatch(/Scenarios:\n\s+SCENARIO\s+RUNS\s+FAILED RUNS\s+HITS/)
    expect(r.stdout).toMatch(/^\s+browse\s+60\s+0\s+60\s+0\s/m)

    const result = JSON.parse(readFileSync(path.join(dir, 'r.json'), 'utf8')) as RunResult
    const schema = JSON.parse(readFileSync(new URL('../../schema/loads-result.schema.json', import.meta.url), 'utf8')) as object
    const validate = new Ajv2020({ allErrors: true }).compile(schema)
    expect(validate(result), JSON.stringify(validate.errors)).toBe(true)
    expect(result.summary.scenarios?.map((s) => [s.name, s.runs, s.failures + s.errors, s.hits, s.failed, s.latency.count, s.duration.count])).toEqual([
      ['browse', 60, 0, 60, 0, 60, 60],
      ['buy', 10, 0, 10, 0, 10, 10],
      ['late', 10, 0, 10, 0, 10, 10],
    ])
    expect(result.run.plan.scenarios?.map((s) => [s.name, s.startMs, s.tags])).toEqual([['browse', 0, undefined], ['buy', 1500, undefined], ['late', 3000, { team: 'payments' }]])
    expect(result.histograms?.scenarios?.map((h) => h.name).sort()).toEqual(['browse', 'buy', 'late'])
    expect(result.thresholds.map((t) => [t.threshold, t.pass])).toEqual([
      ['scenario:browse:hits>=60', true],
      ['scenario:buy:p95<10s', true],
      ['scenario:late:errors<1%', true],
      ['scenario:buy:hits>10', false],
    ])
    const details = readFileSync(path.join(dir, 'r.details.csv'), 'utf8')
    expect(details).toMatch(/^scenario,buy,10,10,0,0,/m)
    expect(details).toMatch(/^scenario_hits,late,10,10,0,,/m)
    const junit = readFileSync(path.join(dir, 'r.xml'), 'utf8')
    expect(junit).toMatch(/<testsuite name="loads: scenarios"[^>]* tests="3" failures="0"/)
  }, 70_000)

  it('INI sections work the same; a scenario failing its runs fails its JUnit case', async () => {
    const before = new Map(server.countByPath)
    const r = await runBin(LOADS_RUNNER, ['--config', 'loads.ini', '--server-url', server.url, '-q', '--output', 'junit:i.xml'], { cwd: dir, timeoutMs: 60_000 })
    expect(r.code, r.stderr).toBe(1)
    expect(testResult(r.stdout)).toEqual({ run: 80, errors: 0, failures: 10 })
    expect(server.countByPath.get('/buy/broken/late')).toBe(10)
    expect((server.countByPath.get('/browse') ?? 0) - (before.get('/browse') ?? 0)).toBe(60)
    const junit = readFileSync(path.join(dir, 'i.xml'), 'utf8')
    expect(junit).toMatch(/<testsuite name="loads: scenarios"[^>]* tests="3" failures="1"/)
    expect(junit).toContain('late: 10 of 10 test runs failed')
  }, 70_000)

  it.each([
    [['shop.ts:Browser'], /the --config file's \[scenario.NAME\] sections name the tests/],
    [['-u', '5'], /-u\/--users: with scenarios, each \[scenario.NAME\] section gives its own shape/],
  ])('refuses %j beside scenarios, with a clear message', async (extra, message) => {
    const r = await runBin(LOADS_RUNNER, ['--config', 'loads.toml', ...extra], { cwd: dir, timeoutMs: 30_000 })
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(message)
    expect(r.stderr).not.toMatch(/\n\s+at /)
  }, 40_000)
})
