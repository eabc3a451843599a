import type net from 'node:net'
import { describe, expect, it } from 'vitest'
import type { NetworkError } from '../../src/http/errors.js'
import { Session } from '../../src/http/session.js'
import { RecordingSink } from '../helpers/http-servers.js'
import { wireFixture } from '../helpers/wire-servers.js'

/**
 * Timeouts that mean what they say, on timers: the request timeout bounds the whole request
 * however the server trickles; the headers and body timeouts bound silences. http:// (Loads'
 * client) and https:// (undici) alike. Never early (counted from before the request was made);
 * late by at most LATE_MS beyond the event loop's own delay (read from a reference timer set with
 * the request for the same deadline: a process the kernel did not run for a second has no timer on
 * time), counted from a moment the timeout cannot have started after — the server's receipt of the
 * request, or its last write — so that a TLS handshake slowed by a loaded machine is not counted.
 * Quiet, they fire within a few ms; timeout-precision.test.ts holds them to ±50 ms.
 */

const LATE_MS = 400

const wire = wireFixture()

/** When the server last received a request's first bytes (performance.now()). */
let receivedAt = 0

/** A server that runs `script(socket)` when a connection's first bytes arrive. */
function trickling(secure: boolean, script: (socket: net.Socket) => void): Promise<string> {
  return wire.rawOrigin(secure, (socket) =>
    socket.once('data', () => {
      receivedAt = performance.now()
      script(socket)
    }),
  )
}

/** Writes `bytes` one byte every `everyMs`, then keeps writing `tail` bytes forever. */
function trickle(socket: net.Socket, bytes: string, everyMs: number, tail = 'x'): void {
  let i = 0
  const timer = setInterval(() => {
    if (socket.destroyed) return clearInterval(timer)
    socket.write(i < bytes.length ? bytes[i++]! : tail)
  }, everyMs)
  socket.on('close', () => clearInterval(timer))
}

/**
 * The request's time to fail from before it was made, `ms`; the moment it failed, `endAt`; and the
 * most it may take from the moment its timeout started, `boundMs`: `deadlineMs`, LATE_MS and the
 * event loop's own delay.
 */
async function timed(session: Session, url: string, deadlineMs: number): Promise<{ ms: number; endAt: number; error: NetworkError; boundMs: number }> {
  const started = performance.now()
  let referenceAt = 0
  setTimeout(() => (referenceAt = performance.now()), deadlineMs)
  const error = (await session.get(url).then(
    () => null,
    (e: unknown) => e,
  )) as NetworkError
  const endAt = performance.now()
  while (referenceAt === 0) await new Promise((r) => setImmediate(r))
  const loopLateMs = Math.max(0, referenceAt - started - deadlineMs)
  return { ms: endAt - started, endAt, error, boundMs: deadlineMs + LATE_MS + loopLateMs }
}

describe.each([
  ['http://', false],
  ['https://', true],
])('timeouts over %s', (_label, secure) => {
  const session = (options: { timeoutMs: number; headersTimeoutMs?: number; bodyTimeoutMs?: number }) => {
    const s = new Session({ sink: new RecordingSink(), ca: wire.ca().cert, ...options })
    wire.cleanup(() => s.close())
    return s
  }

  it('the request timeout bounds a head that trickles in a byte at a time (never done)', async () => {
    const origin = await trickling(secure, (socket) => trickle(socket, 'HTTP/1.1 200 OK\r\nX-Slow: ', 40))
    const { ms, endAt, error, boundMs } = await timed(session({ timeoutMs: 600 }), `${origin}/`, 600)
    expect(error.kind).toBe('TIMEOUT')
    expect(error.message).toContain('timed out after 600 ms (the whole request')
    expect(ms).toBeGreaterThanOrEqual(595)
    expect(endAt - receivedAt).toBeLessThan(boundMs)
  })

  it('the request timeout bounds a body that trickles forever', async () => {
    // The head at once (trickled, a loaded machine's timers could spend the 600 ms on it), then a byte every ms.
    const origin = await trickling(secure, (socket) => {
      socket.write('HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n')
      trickle(socket, '', 1)
    })
    const { ms, endAt, error, boundMs } = await timed(session({ timeoutMs: 600 }), `${origin}/`, 600)
    expect(error.kind).toBe('TIMEOUT')
    expect(error.message).toContain('waiting for the response body')
    expect(ms).toBeGreaterThanOrEqual(595)
    expect(endAt - receivedAt).toBeLessThan(boundMs)
  })

  it('the headers timeout bounds the silence before the response headers', async () => {
    const origin = await trickling(secure, () => {})
    const { ms, endAt, error, boundMs } = await timed(session({ timeoutMs: 5000, headersTimeoutMs: 300 }), `${origin}/`, 300)
    expect(error.kind).toBe('TIMEOUT')
    expect(error.message).toContain('within 300 ms of sending the request (headers timeout)')
    expect(ms).toBeGreaterThanOrEqual(295)
    expect(endAt - receivedAt).toBeLessThan(boundMs)
  })

  it('the body timeout bounds a silence between body bytes, not a body that keeps coming', async () => {
    let wroteAt = 0
    const silent = await trickling(secure, (socket) => {
      socket.write('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc')
      wroteAt = performance.now()
    })
    const a = await timed(session({ timeoutMs: 5000, bodyTimeoutMs: 300 }), `${silent}/`, 300)
    expect(a.error.kind).toBe('TIMEOUT')
    expect(a.error.message).toContain('no body bytes from')
    // The client heard the bytes after the server wrote them.
    expect(a.endAt - wroteAt).toBeGreaterThanOrEqual(295)
    expect(a.endAt - wroteAt).toBeLessThan(a.boundMs)
    // A byte every 100 ms never leaves 300 ms of silence: the request timeout ends it.
    const steady = await trickling(secure, (socket) => trickle(socket, 'HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n', 100))
    const b = await timed(session({ timeoutMs: 1200, bodyTimeoutMs: 300 }), `${steady}/`, 1200)
    expect(b.error.message).toContain('timed out after 1200 ms (the whole request')
    expect(b.ms).toBeGreaterThanOrEqual(1195)
  })
})
