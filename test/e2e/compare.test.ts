import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { existsSync, rmSync } from 'node:fs'
import path from 'node:path'
import { LOADS, LOADS_RUNNER, runBin, tempProject } from '../helpers/cli.js'
import { startCountingServer, type CountingServer } from '../helpers/counting-server.js'

/** A name longer than any terminal: the table must not grow with it. */
const LONG = `/extra/${'x'.repeat(300)}`

// test_api hits /api, then /extra (named LONG) when EXTRA is set; it fails unless /api answers 200.
const EXAMPLE = `
import { TestCase } from 'loads-runner'

export class TestApi extends TestCase {
  async test_api() {
    const res = await this.session.get(process.env.TARGET + '/api')
    if (process.env.EXTRA) await this.session.get(process.env.TARGET + '/extra', { name: '${LONG}' })
    this.assertEqual(res.status, 200)
  }

  async test_other() {
    await this.session.get(process.env.TARGET + '/other')
  }
}
`

describe('loads report A.json B.json: a comparison that refuses to mislead', () => {
  let server: CountingServer
  let dir: string
  let delayMs = 0
  let status = 200
  /** One worker; `requests` is what the server must count. */
  const run = async (out: string, args: string[], env: Record<string, string>, requests: number): Promise<void> => {
    const before = server.count
    const r = await runBin(LOADS_RUNNER, [...args, '-c', '10', '-w', '1', '-q', '--output', `json:${out}`], { cwd: dir, env: { TARGET: server.url, ...env } })
    expect(r.stderr).toContain(`wrote ${out}`)
    expect(server.count - before).toBe(requests)
  }

  /**
   * The two runs the first test compares: /api 150 ms slower in the first. Built again when that
   * test is retried: a stall of the loaded machine in the fast run (CI-like load 11 once made its
   * p99 374 ms against the slow run's 89, with 60 ms) would fail a retry reading the same files.
   */
  const slowAndFast = async (): Promise<void> => {
    const was = status
    status = 200
    delayMs = 150
    await run('slow.json', ['example.TestApi.test_api', '-u', '2'], { EXTRA: '1' }, 40)
    delayMs = 0
    await run('fast.json', ['example.TestApi.test_api', '-u', '2'], { EXTRA: '1' }, 40)
    status = was
  }

  beforeAll(async () => {
    server = await startCountingServer((req, res) => {
      const s = req.url === '/api' ? status : 200
      setTimeout(() => res.writeHead(s, { 'content-type': 'text/plain' }).end('ok'), req.url === '/api' ? delayMs : 0)
    })
    dir = tempProject({ 'example.ts': EXAMPLE })
    await slowAndFast()
    status = 500
    await run('broken.json', ['example.TestApi.test_api', '-u', '2', '--threshold', 'errors<1%'], {}, 20)
    await run('other.json', ['example.TestApi.test_other', '-u', '3'], {}, 30)
  }, 120_000)
  afterAll(() => server.close())

  it('shows both runs side by side and the improvements of a faster run, long names cut in the middle', async ({ task }) => {
    if ((task.result?.retryCount ?? 0) > 0) await slowAndFast()
    const r = await runBin(LOADS, ['report', 'slow.json', 'fast.json'], { cwd: dir })
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const lines = r.stdout.split('\n')
    expect(lines.slice(0, 4)).toEqual(['base:    slow.json', 'current: fast.json', '', '            base                      current'])
    expect(lines.slice(4, 7)).toEqual(['tests       1 test: TestApi.test_api  1 test: TestApi.test_api', 'plan        2 users × 10 runs         2 users × 10 runs', 'users       2                         2'])
    expect(lines[7]).toMatch(/^duration {4}[\d.]+ m?s +[\d.]+ m?s$/)
    expect(lines.slice(8, 13)).toEqual([
      'ended       finished, exit 0          finished, exit 0',
      'hits        40                        40',
      'test runs   20, 0 failed (0.0%)       20, 0 failed (0.0%)',
      'thresholds  none                      none',
      'where       this machine, 1 worker    this machine, 1 worker',
    ])
    // 150 ms less on /api: its percentiles fall (its rate rises), listed as improvements; nothing regressed.
    expect(r.stdout).toMatch(/^GET +\/api +.* improved (HITS\/S, )?P50 ms, P95 ms, P99 ms$/m)
    expect(r.stdout).toMatch(/^ {2}GET \/api: (hits\/s, )?p50, p95, p99$/m)
    expect(r.stdout).toMatch(/^TestApi\.test_api +20 → 20 +0\.0% → 0\.0% \(\+0\.00pt\)$/m)
    // (The 0 ms /extra's own latency is noise on a busy machine: nothing is asserted about it.)
    // The 307-character name: its first 30 and last 29 characters around an ellipsis.
    const row = lines.find((l) => l.startsWith('GET     /extra/'))!
    expect(row).toContain(` /extra/${'x'.repeat(23)}…${'x'.repeat(29)} `)
    expect(Math.max(...lines.filter((l) => !/^\d+ regressions? \(/.test(l)).map((l) => l.length))).toBeLessThan(250)

    // A run compared with itself: nothing moved.
    const same = await runBin(LOADS, ['report', 'slow.json', 'slow.json', '--fail-on-regression'], { cwd: dir })
    expect(same.code).toBe(0)
    expect(same.stdout.split('\n').slice(-3)).toEqual(['', 'no regression (tolerance 10%)', ''])
    expect(same.stdout).not.toMatch(/Regressions|Improvements/)
  })

  it('counts failed test runs, failed thresholds and vanished endpoints as regressions', async () => {
    const r = await runBin(LOADS, ['report', 'fast.json', 'broken.json', '--fail-on-regression'], { cwd: dir })
    expect(r.code).toBe(4)
    expect(r.stdout).toContain('\nended       finished, exit 0          finished, exit 1\n')
    expect(r.stdout).toContain('\nhits        40                        20\n')
    expect(r.stdout).toContain('\ntest runs   20, 0 failed (0.0%)       20, 20 failed (100.0%)\n')
    expect(r.stdout).toContain('\nthresholds  none                      1 of 1 failed: errors<1%\n')
    expect(r.stdout).toMatch(/^GET +\/extra\/x+…x+ +[\d.]+ → – +[\d.]+ → – +[\d.]+ → – +[\d.]+ → – +0\.0% → – +VANISHED$/m)
    expect(r.stdout).toMatch(/^TestApi\.test_api +20 → 20 +0\.0% → 100\.0% \(\+100\.00pt\) +REGRESSED$/m)
    const regressions = r.stdout.slice(r.stdout.indexOf('\nRegressions (')).split('\n\n')[0]!.split('\n').slice(1)
    // (Latency and rate may move too on a busy machine: only the failed hits are certain.)
    expect(regressions).toEqual([
      'Regressions (5):',
      expect.stringMatching(/^ {2}all hits: (.+, )?failed hits$/),
      expect.stringMatching(/^ {2}GET \/api: (.+, )?failed hits$/),
      `  GET /extra/${'x'.repeat(19)}…${'x'.repeat(29)}: vanished (no hit in the current run)`,
      '  TestApi.test_api: 100.0% failed (was 0.0%)',
      '  threshold errors<1%: failed (100.0% (20 of 20 hits))',
    ])
    expect(r.stdout).toMatch(/\n5 regressions \(tolerance 10%/)
    // Without --fail-on-regression the comparison itself succeeds.
    expect((await runBin(LOADS, ['report', 'fast.json', 'broken.json'], { cwd: dir })).code).toBe(0)
  })

  it('refuses runs of different tests or plans (exit 2, nothing written) unless --force', async () => {
    // A failed attempt's --force run wrote other.html: the refusal must be seen writing nothing.
    rmSync(path.join(dir, 'other.html'), { force: true })
    const refused = await runBin(LOADS, ['report', 'fast.json', 'other.json', '-o', 'other.html'], { cwd: dir })
    expect(refused.code).toBe(2)
    const reasons = ['different tests: only the base ran TestApi.test_api; only the current run ran TestApi.test_other', 'different plans: base 2 users × 10 runs; current 3 users × 10 runs']
    expect(refused.stderr).toBe(
      `error: the runs are not comparable: ${reasons.join('; ')}\n` +
        'hint: --force compares them anyway (a change of plan shows as changed rates and latencies, not as a regression of the service)\n',
    )
    expect(refused.stdout).toContain('\ntests       1 test: TestApi.test_api  1 test: TestApi.test_other\nplan        2 users × 10 runs         3 users × 10 runs\nusers       2                         3\n')
    expect(refused.stdout).toContain(`\nNOT COMPARABLE:\n  ${reasons.join('\n  ')}\n`)
    expect(refused.stdout).not.toContain('METHOD')
    expect(existsSync(path.join(dir, 'other.html'))).toBe(false)

    const forced = await runBin(LOADS, ['report', 'fast.json', 'other.json', '--force', '-o', 'other.html'], { cwd: dir })
    expect(forced.code).toBe(0)
    expect(forced.stdout).toContain(`\nNOT COMPARABLE (compared anyway, --force):\n  ${reasons.join('\n  ')}\n`)
    expect(forced.stdout).toMatch(/^GET +\/api .* VANISHED$/m)
    expect(forced.stdout).toMatch(/^GET +\/other .* new$/m)
    expect(forced.stdout).toMatch(/^TestApi\.test_api +20 → – +0\.0% → – +GONE$/m)
    expect(forced.stdout).toMatch(/^TestApi\.test_other +– → 30 +– → 0\.0% +NEW$/m)
    expect(forced.stdout).toContain('wrote other.html')
  })
})
