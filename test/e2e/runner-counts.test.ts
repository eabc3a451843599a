import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startCountingServer, type CountingServer } from '../helpers/counting-server.js'
import { LOADS, LOADS_RUNNER, runBin, tempProject, testResult } from '../helpers/cli.js'

/** The hits line of the summary: `Hits: 1000 (…)`. */
function reportedHits(stdout: string): number {
  const m = /^Hits: (\d+)/m.exec(stdout)
  if (!m) throw new Error(`no Hits line in:\n${stdout}`)
  return Number(m[1])
}

const EXAMPLE = `
import { TestCase } from 'loads-runner'

export class TestWebSite extends TestCase {
  async test_something() {
    const res = await this.session.get(process.env.TARGET + '/')
    this.assertTrue(res.content.includes('Search'))
  }
}
`

describe('loads-runner counts exactly what the server received', () => {
  let server: CountingServer
  let dir: string
  beforeAll(async () => {
    server = await startCountingServer()
    dir = tempProject({ 'example.ts': EXAMPLE })
  })
  afterAll(() => server.close())

  it.each([
    { args: ['-u', '100', '-c', '10'], workers: '1', runs: 1000 },
    { args: ['-u', '100', '-c', '10'], workers: '2', runs: 1000 },
    { args: ['-u', '10:20:30', '-c', '20'], workers: '1', runs: 1200 },
    { args: ['-u', '10:20:30', '-c', '20'], workers: '3', runs: 1200 },
  ])('$args with $workers worker(s): run=$runs and the server counted $runs', async ({ args, workers, runs }) => {
    const before = server.count
    const r = await runBin(LOADS_RUNNER, ['example.TestWebSite.test_something', ...args, '--workers', workers], {
      cwd: dir,
      env: { TARGET: server.url },
    })
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(testResult(r.stdout)).toEqual({ run: runs, errors: 0, failures: 0 })
    expect(server.count - before).toBe(runs)
    expect(reportedHits(r.stdout)).toBe(runs)
  })

  it('runs once by default, with a progress line, a summary and the TestResult line last', async () => {
    const before = server.count
    const r = await runBin(LOADS_RUNNER, ['example.TestWebSite.test_something'], { cwd: dir, env: { TARGET: server.url } })
    expect(r.code).toBe(0)
    expect(server.count - before).toBe(1)
    expect(r.stdout).toMatch(/progress: 100%/)
    expect(r.stdout).toMatch(/^Latency \(ms\): min .* p50 .* p99\.9 .* max/m)
    expect(r.stdout.trim().split('\n').at(-1)).toBe('<TestResult run=1 errors=0 failures=0>')
  })

  it('`loads run` is loads-runner', async () => {
    const before = server.count
    const r = await runBin(LOADS, ['run', 'example.TestWebSite.test_something', '-u', '3', '-c', '2', '-q'], { cwd: dir, env: { TARGET: server.url } })
    expect(r.code).toBe(0)
    expect(testResult(r.stdout)).toEqual({ run: 6, errors: 0, failures: 0 })
    expect(server.count - before).toBe(6)
    expect(r.stdout).not.toMatch(/progress:/)
  })

  it('runs for a duration per step with -d', async () => {
    const before = server.count
    const r = await runBin(LOADS_RUNNER, ['example.TestWebSite.test_something', '-u', '2:4', '-d', '1s', '-q'], { cwd: dir, env: { TARGET: server.url } })
    expect(r.code).toBe(0)
    const result = testResult(r.stdout)!
    expect(result.run).toBeGreaterThan(6)
    expect(server.count - before).toBe(result.run)
    expect(reportedHits(r.stdout)).toBe(result.run)
  })
})
