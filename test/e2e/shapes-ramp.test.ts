import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startCountingServer, type CountingServer } from '../helpers/counting-server.js'
import { resetOnRetry } from '../helpers/retry-reset.js'
import { LOADS_RUNNER, runBin, tempProject, testResult } from '../helpers/cli.js'

const TEST = `
import { TestCase } from 'loads-runner'

export class Shaped extends TestCase {
  async test_get() {
    const res = await this.session.get(process.env.TARGET + '/hit')
    this.assertEqual(res.status, 200)
  }
}
`

/** When (server clock, ms) each virtual user's requests arrived: users are told apart by a cookie the server hands out. */
interface UserTimes {
  id: number
  times: number[]
}

describe('the closed model, shaped: --ramp-up, --pause and --think', () => {
  let server: CountingServer
  const users: UserTimes[] = []
  let dir: string
  // A retried test tells apart only its own attempt's users (test/helpers/retry-reset.ts).
  resetOnRetry(() => {
    users.length = 0
  })
  beforeAll(async () => {
    server = await startCountingServer((req, res) => {
      const now = performance.now()
      const m = /uid=(\d+)/.exec(req.headers.cookie ?? '')
      if (m) users[Number(m[1])]!.times.push(now)
      else {
        users.push({ id: users.length, times: [now] })
        res.setHeader('set-cookie', `uid=${users.length - 1}`)
      }
      res.end('ok')
    })
    dir = tempProject({ 'shaped.ts': TEST })
  })
  afterAll(() => server.close())

  it('-u 4:4 -c 3 --ramp-up 1s --pause 1s --think 300ms-400ms: starts spread, a pause between steps, think between runs', async () => {
    const r = await runBin(
      LOADS_RUNNER,
      ['shaped.Shaped.test_get', '-u', '4:4', '-c', '3', '--ramp-up', '1s', '--pause', '1s', '--think', '300ms-400ms', '-w', '2', '-q'],
      { cwd: dir, env: { TARGET: server.url } },
    )
    expect(r.code).toBe(0)
    expect(testResult(r.stdout)).toEqual({ run: 24, errors: 0, failures: 0 })
    expect(server.count).toBe(24)
    expect(users).toHaveLength(8)
    // Timer jitter, plus a cold worker's first request, on a busy 2-core machine (seen: 612 ms
    // late with other suites running beside it). What must hold is the shape, not the ms.
    const tolerance = 450
    for (const step of [users.slice(0, 4), users.slice(4, 8)]) {
      // Each step's users start 0, 250, 500, 750 ms after its first (2 workers, interleaved).
      const firsts = step.map((u) => u.times[0]!).sort((a, b) => a - b)
      firsts.forEach((t, i) => expect(Math.abs(t - firsts[0]! - i * 250)).toBeLessThan(tolerance))
      for (const u of step) {
        expect(u.times).toHaveLength(3)
        for (let i = 1; i < 3; i++) {
          const gap = u.times[i]! - u.times[i - 1]!
          expect(gap).toBeGreaterThanOrEqual(300 - 5)
          // A CI run at load 10 saw 851 ms: the think's timer and the next request both late.
          expect(gap).toBeLessThan(400 + 2 * tolerance)
        }
      }
    }
    // Step 2 begins after step 1's last request, plus the pause.
    const lastOfStep1 = Math.max(...users.slice(0, 4).flatMap((u) => u.times))
    const firstOfStep2 = Math.min(...users.slice(4).flatMap((u) => u.times))
    expect(firstOfStep2 - lastOfStep1).toBeGreaterThanOrEqual(1000)
    expect(firstOfStep2 - lastOfStep1).toBeLessThan(1000 + 2 * tolerance)
  }, 60_000)
})
