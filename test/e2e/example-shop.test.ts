/** The shipped traffic-models example against the demo target: every part counted exactly. */
import { readFileSync, mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { startDemoServer } from '../../src/demo/demo-server.js'
import type { RunResult } from '../../src/report/result.js'
import { LOADS_RUNNER, ROOT, runBin, testResult } from '../helpers/cli.js'

describe('examples/test_shop.ts', () => {
  it('splits 8 users into 2 Buyers (fixedCount) and 6 Browsers, and counts its checks and groups exactly', async () => {
    const demo = await startDemoServer()
    const out = mkdtempSync(path.join(os.tmpdir(), 'loads-shop-'))
    try {
      const r = await runBin(
        LOADS_RUNNER,
        ['examples/test_shop.ts', '-u', '8', '-c', '5', '--seed', '7', '-e', 'SEARCH=post', '--workers', '2', '-q', '--output', `json:${out}/r.json`, '--threshold', 'checks>99%'],
        { cwd: ROOT, env: { LOADS_DEMO_URL: demo.url }, timeoutMs: 110_000 },
      )
      expect(r.code, r.stderr).toBe(0)
      expect(testResult(r.stdout)).toEqual({ run: 40, errors: 0, failures: 0 })
      const { summary } = JSON.parse(readFileSync(`${out}/r.json`, 'utf8')) as RunResult
      const runs = Object.fromEntries((summary.methods ?? []).map((m) => [m.name, m.runs]))
      // 2 Buyers × 5 runs; 6 Browsers × 5 runs, one task each, split 6:1 by weight.
      expect(runs['Buyer.test_checkout']).toBe(10)
      expect((runs['Browser.test_read_a_post'] ?? 0) + (runs['Browser.test_search'] ?? 0)).toBe(30)
      const checks = Object.fromEntries((summary.checks ?? []).map((c) => [c.name, c.passes + c.failures]))
      expect(checks['login: status is 200']).toBe(10)
      expect(checks['post: status is 200']).toBe(runs['Browser.test_read_a_post'])
      expect(summary.groups?.map((g) => [g.name, g.runs, g.requests])).toEqual([
        ['checkout', 10, { 'POST /login': 10 }],
        ['checkout::confirm', 10, { 'GET /me': 10 }],
      ])
      // Requests: 2 per checkout, 1 per Browser run.
      expect(demo.count()).toBe(20 + 30)
    } finally {
      await demo.close()
      rmSync(out, { recursive: true, force: true })
    }
  }, 120_000)

  it('examples/shop-scenarios.toml runs its two scenarios side by side, each counted exactly', async () => {
    const demo = await startDemoServer()
    const out = mkdtempSync(path.join(os.tmpdir(), 'loads-shop-'))
    try {
      const r = await runBin(
        LOADS_RUNNER,
        ['--config', 'examples/shop-scenarios.toml', '--seed', '7', '--workers', '2', '-q', '--output', `json:${out}/r.json`],
        { cwd: ROOT, env: { LOADS_DEMO_URL: demo.url }, timeoutMs: 110_000 },
      )
      expect(r.code, r.stderr).toBe(0)
      // browse: 6 users × 5 runs; buy: 2 runs/s for 3 s = 6 runs, 2 requests each.
      expect(testResult(r.stdout)).toEqual({ run: 36, errors: 0, failures: 0 })
      const { summary } = JSON.parse(readFileSync(`${out}/r.json`, 'utf8')) as RunResult
      expect(summary.scenarios?.map((s) => [s.name, s.runs, s.hits, s.failed])).toEqual([['browse', 30, 30, 0], ['buy', 6, 12, 0]])
      expect(summary.groups?.map((g) => [g.name, g.runs])).toEqual([['checkout', 6], ['checkout::confirm', 6]])
      expect(demo.count()).toBe(30 + 12)
    } finally {
      await demo.close()
      rmSync(out, { recursive: true, force: true })
    }
  }, 120_000)
})
