/**
 * Weighted tasks, -e / --env-file and --seed on worker threads, against a real server that
 * counts by path: the split of the tasks is the server's count.
 */
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { CountingServer } from '../helpers/counting-server.js'
import { startCountingServer } from '../helpers/counting-server.js'
import { LOADS_RUNNER, runBin, tempProject, testResult } from '../helpers/cli.js'

const TASKS = `import { TestCase, task } from 'loads-runner'
// Read at the module's top level: -e must be set before the module loads.
const TARGET = process.env.TARGET
export class Decorated extends TestCase {
  @task(3) async test_browse() { await this.session.get(TARGET + '/browse') }
  @task() async buy() { await this.session.get(this.env.TARGET + '/buy') }
  async test_not_a_task() { await this.session.get(TARGET + '/never') }
}
export class Static extends TestCase {
  static tasks = { test_browse: 3, test_buy: 1 }
  async test_browse() { await this.session.get(TARGET + '/s/browse') }
  async test_buy() { await this.session.get(TARGET + '/s/buy') }
}
export class Sequential extends TestCase {
  static tasks = { test_a: 2, test_b: 1 }
  static sequential = true
  async test_a() { await this.session.get(TARGET + '/q/a') }
  async test_b() { await this.session.get(TARGET + '/q/b') }
}
export class Plain extends TestCase {
  async test_one() { await this.session.get(TARGET + '/p/one') }
  async test_two() { await this.session.get(TARGET + '/p/two?secret=' + process.env.SECRET) }
}
`

/** |observed − expected| within 4σ of Binomial(n, p). */
function withinBinomial(observed: number, n: number, p: number): void {
  const sigma = Math.sqrt(n * p * (1 - p))
  expect(Math.abs(observed - n * p), `${observed} of ${n}, p=${p}, σ=${sigma.toFixed(1)}`).toBeLessThanOrEqual(4 * sigma)
}

let server: CountingServer
let dir: string
beforeAll(async () => {
  server = await startCountingServer()
  dir = tempProject({ 'tasks.ts': TASKS })
})
afterAll(() => server.close())

const run = (args: string[]) => runBin(LOADS_RUNNER, ['-q', '--workers', '2', ...args], { cwd: dir, timeoutMs: 90_000 })
const delta = (before: Map<string, number>, p: string): number => (server.countByPath.get(p) ?? 0) - (before.get(p) ?? 0)

describe('weighted tasks', () => {
  it.each([
    ['@task decorators', 'tasks.ts:Decorated', '/browse', '/buy', ['-u', '20', '-c', '200']],
    ['static tasks', 'tasks.ts:Static', '/s/browse', '/s/buy', ['-u', '4', '-c', '100']],
  ])('%s: runs split 3:1 within 4σ of the binomial, one task per run', async (_, address, browse, buy, shape) => {
    const before = new Map(server.countByPath)
    const r = await run([address, ...shape, '-e', `TARGET=${server.url}`])
    const runs = Number(shape[1]) * Number(shape[3])
    expect(r.stderr).toBe('')
    expect(testResult(r.stdout)).toEqual({ run: runs, errors: 0, failures: 0 })
    expect(delta(before, browse) + delta(before, buy)).toBe(runs)
    withinBinomial(delta(before, browse), runs, 0.75)
    expect(delta(before, '/never')).toBe(0)
  }, 90_000)

  it('static sequential = true: each task in order, repeated by its weight, round and round', async () => {
    const before = new Map(server.countByPath)
    const r = await run(['tasks.ts:Sequential', '-u', '2', '-c', '7', '-e', `TARGET=${server.url}`])
    expect(testResult(r.stdout)).toEqual({ run: 14, errors: 0, failures: 0 })
    // Per user: a a b a a b a → 5 a, 2 b.
    expect([delta(before, '/q/a'), delta(before, '/q/b')]).toEqual([10, 4])
  }, 60_000)

  it('without weights, every test method runs once per run, in order (the original semantics)', async () => {
    const before = new Map(server.countByPath)
    const envFile = path.join(dir, 'test.env')
    writeFileSync(envFile, `# the target\nTARGET=${server.url}\nSECRET="s3cr3t-value"\n`)
    const r = await run(['tasks.ts:Plain', '-u', '3', '-c', '5', '--env-file', 'test.env', '--output', 'json:plain.json'])
    expect(testResult(r.stdout)).toEqual({ run: 30, errors: 0, failures: 0 })
    expect([delta(before, '/p/one'), delta(before, '/p/two')]).toEqual([15, 15])
    // The file's values reached the workers, and are printed nowhere.
    expect(server.received.filter((q) => q.path === '/p/two?secret=s3cr3t-value')).toHaveLength(15)
    expect(r.stdout + r.stderr).not.toContain('s3cr3t')
  }, 60_000)

  it('--seed makes the task picks repeat exactly; another seed picks otherwise', async () => {
    const counts = async (seed: string): Promise<number> => {
      const before = new Map(server.countByPath)
      const r = await run(['tasks.ts:Static', '-u', '2', '-c', '100', '-e', `TARGET=${server.url}`, '--seed', seed])
      expect(testResult(r.stdout)?.run).toBe(200)
      return delta(before, '/s/buy')
    }
    const [a, b, c] = [await counts('42'), await counts('42'), await counts('7')]
    expect(a).toBe(b)
    withinBinomial(a, 200, 0.25)
    // Seeds 42 and 7 were checked to differ (a seeded run is the same on every machine).
    expect(c).not.toBe(a)
  }, 90_000)

  it('refuses a bad -e and an unreadable --env-file with a clear message', async () => {
    const bad = await run(['tasks.ts:Plain', '-e', 'NOEQUALS'])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/-e expects KEY=VALUE/)
    // Node 20 itself reads --env-file wherever it is in the command line, and exits 9 on a
    // missing file before Loads starts (docs/traffic-models.md); newer Node leaves it to Loads.
    const missing = await run(['tasks.ts:Plain', '--env-file', 'nope.env'])
    expect([2, 9]).toContain(missing.code)
    expect(missing.stderr).toMatch(/nope\.env/)
  }, 30_000)
})
