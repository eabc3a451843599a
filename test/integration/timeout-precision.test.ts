import type net from 'node:net'
import { describe, expect, it, vi } from 'vitest'
import type { NetworkError } from '../../src/http/errors.js'
import { Session, type SessionOptions } from '../../src/http/session.js'
import { RecordingSink } from '../helpers/http-servers.js'
import { eachRequest, wireFixture } from '../helpers/wire-servers.js'

/**
 * The precision, ±50 ms, asserted so that it holds on a loaded machine and can still
 * fail. Each trial sets a reference timer of its own for the same deadline, at a moment the
 * timeout cannot have started after (the request sent, or the server's write or receipt): a
 * timeout may be late by what that reference timer is late (the event loop's own delay at that
 * moment — a process the kernel did not run for 80 ms has no timer on time), plus 50 ms. A timeout
 * swept by ticks, or started at the wrong moment, is off by its tick or its offset whatever the
 * load. It is never early (a few ms for Node's cached loop clock).
 *
 * The moment a timeout fires is when its hit is recorded: the sink notes performance.now() there
 * (the timer's callback fails the request synchronously). LOADS_PRINT_PRECISION=1 prints each
 * trial's [late, the reference's late, early] ms.
 */

const PRECISION_MS = 50
const TRIALS = 4

const wire = wireFixture()

/** A RecordingSink that notes when each hit was recorded, ms (performance.now()). */
class TimedSink extends RecordingSink {
  readonly at: number[] = []
  override recordHit(...args: Parameters<RecordingSink['recordHit']>): void {
    this.at.push(performance.now())
    super.recordHit(...args)
  }
}

/** A server that runs `script(socket, n)` for the n-th request (0-based) on each connection. */
function scripted(secure: boolean, script: (socket: net.Socket, n: number) => void): Promise<string> {
  return wire.rawOrigin(secure, (socket) => eachRequest(socket, (_head, n) => script(socket, n)))
}

const TIMEOUT_MS = 300

/** A moment of the trial and a reference timer set at it for TIMEOUT_MS. */
class Mark {
  at = 0
  firedAt = 0
  set(): void {
    this.firedAt = 0
    this.at = performance.now()
    setTimeout(() => (this.firedAt = performance.now()), TIMEOUT_MS)
  }
}

interface Trial {
  /** When the timeout fired minus the deadline counted from the reference moment, ms. */
  lateMs: number
  /** How late the reference timer fired: the event loop's own delay at the deadline, ms. */
  loopLateMs: number
  /** When the timeout fired minus the earliest deadline it may have, ms (negative: early). */
  earlyMs: number
}

/**
 * Sends one request that must time out after TIMEOUT_MS. `reference` is set when the timeout
 * cannot have started later (by the test, or by the server); `earliest` is a moment it cannot
 * have started earlier (the test's send, unless given).
 */
async function trial(session: Session, sink: TimedSink, url: string, message: string, reference: Mark | null, earliest?: Mark): Promise<Trial> {
  const hits = sink.at.length
  const sent = new Mark()
  sent.set()
  const error = (await session.get(url).then(
    () => null,
    (e: unknown) => e,
  )) as NetworkError | null
  expect(error?.kind).toBe('TIMEOUT')
  expect(error?.message).toContain(message)
  expect(sink.at).toHaveLength(hits + 1)
  const ref = reference ?? sent
  // The reference timer fires in the same timers phase as the timeout, or just before it.
  await vi.waitFor(() => expect(ref.firedAt).toBeGreaterThan(0))
  const firedAt = sink.at[hits]!
  return {
    lateMs: firedAt - (ref.at + TIMEOUT_MS),
    loopLateMs: ref.firedAt - (ref.at + TIMEOUT_MS),
    earlyMs: firedAt - ((earliest ?? sent).at + TIMEOUT_MS),
  }
}

/** The first trial of each test warms the code paths up (compiling them costs 10-20 ms once); the rest are asserted. */
function expectPrecise(all: Trial[]): void {
  const trials = all.slice(1)
  expect(trials).toHaveLength(TRIALS - 1)
  if (process.env['LOADS_PRINT_PRECISION'] === '1') console.log(JSON.stringify(trials.map((t) => [t.lateMs, t.loopLateMs, t.earlyMs].map((v) => Math.round(v * 10) / 10))))
  for (const t of trials) {
    const context = `fired ${t.lateMs.toFixed(1)} ms after the deadline, the event loop's own timer ${t.loopLateMs.toFixed(1)} ms`
    expect(t.earlyMs, context).toBeGreaterThanOrEqual(-5)
    expect(t.lateMs, context).toBeLessThanOrEqual(PRECISION_MS + Math.max(0, t.loopLateMs))
  }
}

describe.each([
  ['http://', false],
  ['https://', true],
])('timeouts over %s fire within ±50 ms of their deadline, beyond the event loop’s own delay', (_label, secure) => {
  function user(options: Partial<SessionOptions>): { session: Session; sink: TimedSink } {
    const sink = new TimedSink()
    const session = new Session({ sink, ca: wire.ca().cert, ...options })
    wire.cleanup(() => session.close())
    return { session, sink }
  }

  it('--timeout: the whole request, from send, while the head trickles in', async () => {
    // Each connection answers its first request (made to connect: a TLS handshake on a loaded
    // machine can take more than the 300 ms) and trickles the head of the next.
    const origin = await scripted(secure, (socket, n) => {
      if (n === 0) return void socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok')
      socket.write('HTTP/1.1 200 OK\r\nX-Slow: ')
      const timer = setInterval(() => socket.write('x'), 40)
      socket.on('close', () => clearInterval(timer))
    })
    const { session, sink } = user({ timeoutMs: TIMEOUT_MS })
    const trials: Trial[] = []
    for (let i = 0; i < TRIALS; i++) {
      expect((await session.get(`${origin}/warm`)).text).toBe('ok')
      trials.push(await trial(session, sink, `${origin}/`, 'timed out after 300 ms (the whole request', null))
    }
    expectPrecise(trials)
  })

  it('--headers-timeout: from sending the request on a kept connection', async () => {
    // Each connection answers its first request and is silent after; the request was written
    // (the timeout's start) before the server read it.
    const received = new Mark()
    const origin = await scripted(secure, (socket, n) => {
      if (n === 0) socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok')
      else received.set()
    })
    const { session, sink } = user({ timeoutMs: 10_000, headersTimeoutMs: TIMEOUT_MS })
    const trials: Trial[] = []
    for (let i = 0; i < TRIALS; i++) {
      expect((await session.get(`${origin}/warm`)).text).toBe('ok')
      trials.push(await trial(session, sink, `${origin}/`, 'within 300 ms of sending the request (headers timeout)', received))
    }
    expectPrecise(trials)
  })

  it('--body-timeout: from the last body bytes the server wrote', async () => {
    // The client hears the bytes after the server wrote them: counting from the write adds only
    // the loopback's delivery to the lateness.
    const wrote = new Mark()
    let writes = 0
    const origin = await scripted(secure, (socket) => {
      socket.write('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc')
      wrote.set()
      writes++
    })
    const { session, sink } = user({ timeoutMs: 10_000, bodyTimeoutMs: TIMEOUT_MS })
    const trials: Trial[] = []
    for (let i = 0; i < TRIALS; i++) trials.push(await trial(session, sink, `${origin}/`, 'no body bytes from', wrote, wrote))
    expect(writes).toBe(TRIALS)
    expectPrecise(trials)
  })
})
