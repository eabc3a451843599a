import http2, { createServer, type Http2Server, type ServerHttp2Session } from 'node:http2'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LOADS_RUNNER, runBin, tempProject, testResult } from '../helpers/cli.js'
import { resetOnRetry } from '../helpers/retry-reset.js'

const TEST = `
import { TestCase } from 'loads-runner'

export class Plain extends TestCase {
  async test_get() {
    const res = await this.session.get('/plain')
    this.assertEqual(res.text, 'h2c ok')
  }
}
`

describe('--h2c and --h2-streams from the command line', () => {
  let server: Http2Server
  let port: number
  let dir: string
  const seen = { sessions: 0, streams: 0 }
  const open = new Set<ServerHttp2Session>()
  // A retried test counts the sessions and streams of its own attempt only.
  const forget = resetOnRetry(() => {
    seen.sessions = 0
    seen.streams = 0
  })
  beforeAll(async () => {
    server = createServer()
    server.on('session', (session) => {
      seen.sessions++
      open.add(session)
      session.on('close', () => open.delete(session))
    })
    server.on('stream', (stream) => {
      seen.streams++
      stream.respond({ ':status': 200 })
      stream.end('h2c ok')
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    port = (server.address() as AddressInfo).port
    dir = tempProject({ 'plain.ts': TEST })
  })
  afterAll(async () => {
    forget()
    for (const s of open) s.destroy()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  })

  it('6 users in one worker with --h2-streams 3 ride 2 cleartext h2 connections; hits equal the streams served', async () => {
    const r = await runBin(
      LOADS_RUNNER,
      ['plain.Plain.test_get', '-u', '6', '-c', '4', '-w', '1', '-q', '--h2c', '--h2-streams', '3', '--server-url', `http://127.0.0.1:${port}`],
      { cwd: dir },
    )
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(testResult(r.stdout)).toEqual({ run: 24, errors: 0, failures: 0 })
    expect(r.stdout).toMatch(/Hits: 24\b/)
    expect(seen.streams).toBe(24)
    expect(seen.sessions).toBe(2)
  }, 60_000)

  it('GOAWAY and RST_STREAM mid-run: hits equal the streams served, errors equal the resets, one connection per GOAWAY', async () => {
    // Every 4th stream of a connection is answered after a GOAWAY naming it as the last (the
    // GOAWAY goes first on the wire, so the user's next request opens a new connection); every
    // 7th stream overall is reset with INTERNAL_ERROR, unanswered.
    const state = { sessions: 0, streams: 0, resets: 0, goaways: 0 }
    const alive = new Set<ServerHttp2Session>()
    const churn = createServer()
    churn.on('session', (session) => {
      state.sessions++
      alive.add(session)
      session.on('close', () => alive.delete(session))
      session.on('error', () => {})
      let perSession = 0
      session.on('stream', (stream) => {
        stream.on('error', () => {})
        state.streams++
        perSession++
        if (state.streams % 7 === 0) {
          state.resets++
          stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR)
          return
        }
        if (perSession % 4 === 0) {
          state.goaways++
          session.goaway(http2.constants.NGHTTP2_NO_ERROR, stream.id)
        }
        stream.respond({ ':status': 200 })
        stream.end('h2c ok')
      })
    })
    await new Promise<void>((resolve) => churn.listen(0, '127.0.0.1', resolve))
    const churnPort = (churn.address() as AddressInfo).port
    try {
      // The own client (the default); LOADS_HTTP2=node gives the same counts (checked by hand).
      for (const backend of ['own']) {
        const before = { ...state }
        const r = await runBin(LOADS_RUNNER, ['plain.Plain.test_get', '-u', '6', '-c', '10', '-w', '1', '-q', '--h2c', '--server-url', `http://127.0.0.1:${churnPort}`], { cwd: dir, env: { LOADS_HTTP2: backend } })
        const resets = state.resets - before.resets
        expect(state.streams - before.streams, backend).toBe(60)
        expect(resets, backend).toBeGreaterThanOrEqual(8)
        expect(testResult(r.stdout), backend).toEqual({ run: 60, errors: resets, failures: 0 })
        expect(r.stdout, backend).toMatch(/Hits: 60\b/)
        expect(state.sessions - before.sessions, backend).toBe(6 + state.goaways - before.goaways)
        expect(r.code, backend).toBe(1)
      }
    } finally {
      for (const s of alive) s.destroy()
      await new Promise<void>((resolve) => churn.close(() => resolve()))
    }
  }, 60_000)

  it('refuses --h2-streams 0 (exit 2)', async () => {
    const r = await runBin(LOADS_RUNNER, ['plain.Plain.test_get', '--h2c', '--h2-streams', '0'], { cwd: dir })
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('--h2-streams')
  }, 30_000)
})
