/** Several user classes on worker threads: the split is exact, as the server counts it. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startCountingServer, type CountingServer } from '../helpers/counting-server.js'
import { LOADS_RUNNER, runBin, tempProject, testResult } from '../helpers/cli.js'
import { CLASSES } from '../helpers/shop-test.js'


let server: CountingServer
let dir: string
beforeAll(async () => {
  server = await startCountingServer()
  dir = tempProject({ 'shop.ts': CLASSES })
})
afterAll(() => server.close())

describe('several user classes over two workers', () => {
  it('fixedCount users first, the rest 3:1 by weight, exact over both workers', async () => {
    const before = new Map(server.countByPath)
    // 11 users: Buyer 2 (fixed); 9 left → Browser 6.75, Admin 2.25 → 7 and 2 (largest remainder).
    const r = await runBin(LOADS_RUNNER, ['shop.ts', '-u', '11', '-c', '4', '--workers', '2', '--server-url', server.url, '-q'], { cwd: dir, timeoutMs: 110_000 })
    expect(r.stderr).toBe('')
    expect(testResult(r.stdout)).toEqual({ run: 44, errors: 0, failures: 0 })
    const delta = (p: string): number => (server.countByPath.get(p) ?? 0) - (before.get(p) ?? 0)
    expect([delta('/browse/Browser'), delta('/buy'), delta('/admin')]).toEqual([28, 8, 8])
  }, 120_000)

  it('several addresses of one file share the users (weight 1 each unless declared)', async () => {
    const before = new Map(server.countByPath)
    const r = await runBin(LOADS_RUNNER, ['shop.ts:Browser', 'shop.ts:Admin', '-u', '8', '-c', '2', '--workers', '2', '--server-url', server.url, '-q'], { cwd: dir, timeoutMs: 110_000 })
    expect(testResult(r.stdout)).toEqual({ run: 16, errors: 0, failures: 0 })
    const delta = (p: string): number => (server.countByPath.get(p) ?? 0) - (before.get(p) ?? 0)
    // Browser weight 3, Admin 1: 6 and 2 users.
    expect([delta('/browse/Browser'), delta('/admin'), delta('/buy')]).toEqual([12, 4, 0])
  }, 120_000)
})
