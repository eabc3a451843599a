import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseResolve } from '../../src/http/resolve-map.js'
import { Aggregator } from '../../src/stats/aggregator.js'
import { Recorder } from '../../src/stats/recorder.js'
import { WsClient, type WsUserContext } from '../../src/ws/ws-client.js'
import { WsError } from '../../src/ws/ws-error.js'
import type { WsMessage } from '../../src/ws/ws-message.js'
import { closedPort } from '../helpers/http-servers.js'
import { makeTestCa, type TestCa } from '../helpers/tls-ca.js'
import { startEchoServer, type EchoServer } from '../helpers/ws-servers.js'

function context(recorder: Recorder, extra: Partial<WsUserContext> = {}): WsUserContext {
  return { sink: recorder, connection: {}, timeoutMs: 2000, baseUrl: undefined, ...extra }
}

function summaryOf(recorder: Recorder) {
  const agg = new Aggregator()
  agg.add(recorder.snapshot(true))
  return agg.summary()
}

describe('WsClient against a real echo server', () => {
  let server: EchoServer
  beforeAll(async () => {
    server = await startEchoServer()
  })
  afterAll(() => server.close())

  it('sends and receives 50 messages: the server and the recorder count exactly the same', async () => {
    const before = { opened: server.opened, in: server.messagesIn, out: server.messagesOut }
    const recorder = new Recorder({ source: 'w' })
    const ws = new WsClient(`${server.url}/echo?room=1`, { protocols: ['chat.v1', 'chat.v2'], headers: { 'x-user': 'u1' } }, context(recorder))
    const events: string[] = []
    ws.on('open', () => events.push('open'))
    ws.on('message', () => events.push('message'))
    ws.on('close', (code) => events.push(`close ${code}`))
    await ws.connect()
    expect(ws.protocol).toBe('chat.v2')
    for (let i = 0; i < 50; i++) {
      await ws.send(`hello ${i}`)
      expect((await ws.receive()).text).toBe(`hello ${i}`)
    }
    expect(await ws.close()).toEqual({ code: 1000, reason: '' })
    expect(server.opened - before.opened).toBe(1)
    expect(server.messagesIn - before.in).toBe(50)
    expect(server.messagesOut - before.out).toBe(50)
    expect(server.handshakes.at(-1)?.headers['x-user']).toBe('u1')
    expect(events).toEqual(['open', ...Array<string>(50).fill('message'), 'close 1000'])
    const ws0 = summaryOf(recorder).endpoints.find((e) => e.method === 'WS')!
    const bytes = Array.from({ length: 50 }, (_, i) => `hello ${i}`.length).reduce((a, b) => a + b, 0)
    expect(ws0).toMatchObject({ name: '/echo', hits: 1, statuses: { '101': 1 }, bytesIn: bytes, bytesOut: bytes, ws: { messagesIn: 50, messagesOut: 50, closeCodes: { '1000': 1 } } })
  })

  it('receives with a predicate, skipping the messages before the match, and echoes binary and JSON', async () => {
    const recorder = new Recorder({ source: 'w' })
    const ws = await new WsClient(server.url, { name: 'burst' }, context(recorder)).connect()
    await ws.send('burst 10')
    const seventh = await ws.receive((m: WsMessage) => m.text === 'burst-7')
    expect(seventh.text).toBe('burst-7')
    expect((await ws.receive()).text).toBe('burst-8')
    await ws.send(Buffer.from([1, 2, 3]))
    await ws.sendJson({ a: 1 })
    // burst-9 and done are still unread; the predicate skips them.
    const binary = await ws.receive((m) => m.isBinary)
    expect([...binary.data]).toEqual([1, 2, 3])
    expect((await ws.receive()).json()).toEqual({ a: 1 })
    await ws.close(4001, 'bye')
    const s = summaryOf(recorder).endpoints[0]!
    expect(s.name).toBe('burst')
    expect(s.ws).toEqual({ messagesIn: 13, messagesOut: 3, closeCodes: { '4001': 1 } })
  })

  it('times out a receive (kind TIMEOUT) and fails receives after the close (kind CLOSED)', async () => {
    const ws = await new WsClient(server.url, {}, context(new Recorder({ source: 'w' }))).connect()
    const started = performance.now()
    const err = await ws.receive({ timeoutMs: 150 }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(WsError)
    expect((err as WsError).kind).toBe('TIMEOUT')
    expect(performance.now() - started).toBeGreaterThanOrEqual(140)
    const pending = ws.receive()
    await ws.close()
    await expect(pending).rejects.toMatchObject({ kind: 'CLOSED' })
    await expect(ws.send('late')).rejects.toMatchObject({ kind: 'CLOSED' })
  })

  it('records a refused handshake with its status, and a refused connection by kind', async () => {
    const recorder = new Recorder({ source: 'w' })
    const rejected = new WsClient(`${server.url}/reject:403`, { name: '/reject' }, context(recorder))
    await expect(rejected.connect()).rejects.toMatchObject({ kind: 'HANDSHAKE', status: 403 })
    const port = await closedPort()
    const refused = new WsClient(`ws://127.0.0.1:${port}/x`, {}, context(recorder))
    const err = await refused.connect().catch((e: unknown) => e as Error)
    expect(err).toMatchObject({ kind: 'ECONNREFUSED' })
    // Raised by the socket, yet its stack points at the line that asked to connect.
    expect(err.stack).toContain('ws-client.test.ts:92:')
    const endpoints = summaryOf(recorder).endpoints
    expect(endpoints.find((e) => e.name === '/reject')).toMatchObject({ hits: 1, errors: 0, statuses: { '403': 1 } })
    expect(endpoints.find((e) => e.name === '/x')).toMatchObject({ hits: 1, errors: 1, errorKinds: { ECONNREFUSED: 1 } })
  })

  it('resolves relative URLs against the base (http → ws) and terminates on stop (kind ABORTED)', async () => {
    const ws = new WsClient('/rel', {}, context(new Recorder({ source: 'w' }), { baseUrl: server.url.replace('ws:', 'http:') }))
    expect(ws.url).toBe(`${server.url}/rel`)
    await ws.connect()
    const pending = ws.receive()
    ws.terminate()
    await expect(pending).rejects.toMatchObject({ kind: 'ABORTED' })
  })
})

describe('wss:// with a private CA and --resolve', () => {
  let ca: TestCa
  let server: EchoServer
  beforeAll(async () => {
    ca = makeTestCa()
    server = await startEchoServer(ca.issue('loads.test', { dnsNames: ['loads.test'] }))
  })
  afterAll(async () => {
    await server.close()
    ca.dispose()
  })

  it('connects to wss://loads.test pinned to 127.0.0.1, trusting the CA; without the CA it is a TLS error', async () => {
    const resolve = parseResolve([`loads.test:${server.port}:127.0.0.1`])
    const recorder = new Recorder({ source: 'w' })
    const ws = await new WsClient(`wss://loads.test:${server.port}/secure`, {}, context(recorder, { connection: { ca: ca.cert, resolve } })).connect()
    await ws.send('over tls')
    expect((await ws.receive()).text).toBe('over tls')
    await ws.close()
    expect(server.handshakes.at(-1)?.headers.host).toBe(`loads.test:${server.port}`)
    const untrusted = new WsClient(`wss://loads.test:${server.port}/secure`, {}, context(recorder, { connection: { resolve } }))
    await expect(untrusted.connect()).rejects.toMatchObject({ kind: 'TLS' })
    const e = summaryOf(recorder).endpoints[0]!
    expect(e).toMatchObject({ hits: 2, errors: 1, statuses: { '101': 1 }, errorKinds: { TLS: 1 } })
    expect(e.connects).toBe(2)
  })
})
