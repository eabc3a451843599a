import { describe, expect, it } from 'vitest'
import { startDemoServer } from '../../src/demo/demo-server.js'
import { LOADS, LOADS_RUNNER, ROOT, runBin, testResult } from '../helpers/cli.js'

describe('loads demo', () => {
  it('runs the shipped example against the shipped target, and the target counts every hit', async () => {
    const r = await runBin(LOADS, ['demo', '-u', '2:3', '-c', '5'], { cwd: ROOT })
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('loads-runner loads.examples.test_blog.TestWebSite.test_something -u 2:3 -c 5')
    expect(testResult(r.stdout)).toEqual({ run: 25, errors: 0, failures: 0 })
    expect(r.stdout).toMatch(/^Hits: 25 /m)
    expect(r.stdout).toContain('the demo target counted 25 requests received')
  })

  it('every test of the shipped blog example passes against the demo target', async () => {
    const demo = await startDemoServer()
    try {
      const r = await runBin(LOADS_RUNNER, ['loads.examples.test_blog.TestWebSite', '-u', '3', '-c', '2', '--server-url', demo.url, '-q'], { cwd: ROOT })
      expect(r.code).toBe(0)
      // 3 tests × 3 users × 2 runs; test_log_in makes 2 requests.
      expect(testResult(r.stdout)).toEqual({ run: 18, errors: 0, failures: 0 })
      expect(demo.count()).toBe(24)
      expect(r.stdout).toMatch(/GET\s+\/posts\/\{id\}\s+6\s/)
      expect(r.stdout).toMatch(/logins\D+6\b/)
    } finally {
      await demo.close()
    }
  })
})
