import { afterEach, describe, expect, it } from 'vitest'
import { deadlineListCount } from '../../src/http/request-deadlines.js'
import { Session } from '../../src/http/session.js'
import { RecordingSink, startServer, type CountingServer } from '../helpers/http-servers.js'

/**
 * The whole-request timeouts' lists (src/http/request-deadlines.ts), one per timeout length, as a
 * test uses them: memory must not grow with hits, whatever timeouts the test computes.
 */

let server: CountingServer | undefined
afterEach(async () => {
  await server?.close()
  server = undefined
})

describe('request deadlines: one list per timeout length', () => {
  it('keeps at most 64 lists when every request has a timeout of its own (a budget computed per request)', async () => {
    server = await startServer((_req, res) => res.end('ok'))
    const sink = new RecordingSink()
    const user = new Session({ sink })
    const before = server.requests.length
    try {
      // A test giving each request what is left of a budget: a length never seen before, each time.
      const budgetEndMs = performance.now() + 600_000
      for (let i = 0; i < 1500; i++) {
        const response = await user.get(`${server.origin}/r${i}`, { timeout: budgetEndMs - performance.now() })
        expect(response.status).toBe(200)
      }
    } finally {
      await user.close()
    }
    expect(server.requests.length - before).toBe(1500)
    expect(sink.hits).toHaveLength(1500)
    expect(sink.hits.filter((h) => h.status !== 200)).toEqual([])
    expect(deadlineListCount()).toBeLessThanOrEqual(64)
  })
})
