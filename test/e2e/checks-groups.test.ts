/**
 * Checks, groups and per-method figures on worker threads, counted against a real server: the
 * checks' passes and failures are the server's 200s and 500s, the groups' requests its requests.
 */
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunResult } from '../../src/report/result.js'
import type { CountingServer } from '../helpers/counting-server.js'
import { LOADS_RUNNER, runBin, tempProject, testResult } from '../helpers/cli.js'
import { SHOP_TEST, startShopServer } from '../helpers/shop-test.js'

let server: CountingServer & { served500: () => number }
let dir: string
beforeAll(async () => {
  server = await startShopServer()
  dir = tempProject({ 'shop.ts': SHOP_TEST, 'expecting.ts': EXPECTING })
})
afterAll(() => server.close())

/** Statuses the test expects, asked for inside a group and outside one: neither counts as failed. */
const EXPECTING = `import { TestCase } from 'loads-runner'
export class Expecting extends TestCase {
  async test_inside() {
    await this.group('g', async () => { await this.session.get('/item', { expect: [200, 500], name: 'inside' }) })
    await this.session.get('/item', { expect: [200, 500], name: 'outside' })
  }
}
`

describe('checks and groups on two worker threads', () => {
  it('count exactly what the server answered, never end a run, and feed thresholds', async () => {
    const r = await runBin(
      LOADS_RUNNER,
      [
        'shop.ts:Shop', '-u', '10', '-c', '20', '--workers', '2', '--server-url', server.url, '-q',
        '--output', 'json:out/r.json', '--output', 'csv:out/r.csv', '--output', 'junit:out/r.xml',
        '--threshold', 'checks>80%', '--threshold', "check:'status is 200'>95%", '--threshold', 'group:checkout:p95<10s',
      ],
      { cwd: dir },
    )
    // 200 runs of each method; test_broken fails every run: exit 1 (failures), not a crash.
    expect(r.stderr.split('\n').filter((l) => !l.startsWith('--output'))).toEqual([''])
    expect(r.code).toBe(1)
    expect(testResult(r.stdout)).toEqual({ run: 400, errors: 0, failures: 200 })
    expect(server.countByPath.get('/item')).toBe(200)
    expect(server.served500()).toBe(20)
    const { summary } = JSON.parse(readFileSync(path.join(dir, 'out/r.json'), 'utf8')) as RunResult
    expect(summary.checks).toEqual([
      { name: 'always', passes: 200, failures: 0 },
      { name: 'says ok', passes: 180, failures: 20 },
      { name: 'status is 200', passes: 180, failures: 20 },
    ])
    expect(summary.groups?.map((g) => [g.name, g.runs, g.failures, g.errors, g.duration.count, g.requests])).toEqual([
      ['broken', 200, 200, 0, 200, { 'GET /broken': 200 }],
      ['checkout', 200, 0, 0, 200, { 'GET /cart': 200 }],
      ['checkout::pay', 200, 0, 0, 200, { 'POST /pay': 200 }],
    ])
    expect(server.countByPath.get('/pay')).toBe(200)
    // A block's time covers its inner blocks.
    const checkout = summary.groups!.find((g) => g.name === 'checkout')!
    const pay = summary.groups!.find((g) => g.name === 'checkout::pay')!
    expect(checkout.duration.max).toBeGreaterThanOrEqual(pay.duration.min)
    expect(summary.methods?.map((m) => [m.name, m.runs, m.failures, m.errors, m.duration.count]).sort()).toEqual([
      ['Shop.test_broken', 200, 200, 0, 200],
      ['Shop.test_buy', 200, 0, 0, 200],
    ])
    // The summary shows them; thresholds judge them.
    expect(r.stdout).toMatch(/^ {2}✗\s+status is 200\s+90\.0%\s+180\s+20$/m)
    expect(r.stdout).toMatch(/^ {2}checkout::pay\s+200\s+0\s+0\s/m)
    expect(r.stdout).toMatch(/^ {2}pass {2}checks>80% +checks 93\.3% \(560 of 600 checks passed\)$/m)
    expect(r.stdout).toMatch(/^ {2}FAIL {2}check:'status is 200'>95% +checks 90\.0% \(180 of 200 checks passed\)$/m)
    expect(r.stdout).toMatch(/^ {2}pass {2}group:checkout:p95<10s +p95 /m)
    // CSV and JUnit carry them too.
    const details = readFileSync(path.join(dir, 'out/r.details.csv'), 'utf8').split('\r\n')
    // (the last column, value, is for counters)
    expect(details).toContain('check,status is 200,200,180,20,,,,,,,,,,,')
    expect(details.some((l) => l.startsWith('group,checkout::pay,200,200,0,0,') && l.endsWith(',POST /pay:200,'))).toBe(true)
    const xml = readFileSync(path.join(dir, 'out/r.xml'), 'utf8')
    expect(xml).toContain('<testcase classname="checks" name="status is 200"')
    expect(xml).toContain('<failure message="status is 200: failed 20 of 200 times" type="CheckFailed">')
  }, 60_000)

  it('a status the test expects is not a failure inside a group either', async () => {
    const before = server.served500()
    const r = await runBin(LOADS_RUNNER, ['expecting.ts:Expecting', '-u', '2', '-c', '10', '--server-url', server.url, '-q', '--output', 'json:out/e.json'], { cwd: dir })
    expect(r.code, r.stderr).toBe(0)
    // 40 GET /item: the server answered every 10th with a 500.
    expect(server.served500() - before).toBe(4)
    const { summary } = JSON.parse(readFileSync(path.join(dir, 'out/e.json'), 'utf8')) as RunResult
    expect(summary.hits).toBe(40)
    expect(summary.failed).toBe(0)
    expect(summary.endpoints.map((e) => [e.name, e.hits, e.failed]).sort()).toEqual([
      ['inside', 20, 0],
      ['outside', 20, 0],
    ])
    expect(summary.groups?.map((g) => [g.name, g.runs, g.requests])).toEqual([['g', 20, { 'GET inside': 20 }]])
  }, 60_000)
})
