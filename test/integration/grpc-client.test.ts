import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { LoadsError } from '../../src/errors.js'
import { GrpcClient, type GrpcContext } from '../../src/grpc/grpc-client.js'
import { GrpcError } from '../../src/grpc/grpc-error.js'
import { GrpcSink, PROTO_DIR, startShopServer, type ShopServer } from '../helpers/grpc-server.js'
import { makeTestCa, type TestCa } from '../helpers/tls-ca.js'

function context(sink: GrpcSink, extra: Partial<GrpcContext> = {}): GrpcContext {
  return { sink, tls: {}, timeoutMs: 5000, protoRoot: PROTO_DIR, ...extra }
}

/**
 * A client of a port where no server listens, from a fresh copy of the modules: a worker keeps
 * the call site of each method's first call (http/call-site.ts), and a fresh copy is a fresh
 * worker, whose first GetItem is the test's whatever ran before.
 */
async function refusedClient(sink: GrpcSink, currentTest?: () => string): Promise<GrpcClient> {
  const probe = await startShopServer()
  const port = probe.port
  await probe.close()
  vi.resetModules()
  const { GrpcClient: FreshClient } = await import('../../src/grpc/grpc-client.js')
  return new FreshClient(`127.0.0.1:${port}`, { proto: 'shop.proto' }, context(sink, currentTest === undefined ? {} : { currentTest }))
}

describe('gRPC calls of a virtual user, against a @grpc/grpc-js server', () => {
  let server: ShopServer
  beforeAll(async () => {
    server = await startShopServer()
  })
  afterAll(() => server.close())

  it('makes unary, server-streaming, client-streaming and bidi calls; hits and messages equal what the server counted', async () => {
    const before = { ...server.counts.calls, in: server.counts.messagesIn, out: server.counts.messagesOut }
    const sink = new GrpcSink()
    const shop = new GrpcClient(`127.0.0.1:${server.port}`, { proto: 'shop.proto', metadata: { 'x-user': 'u1' } }, context(sink))
    const item = await shop.unary<{ id: number; name: string; price: { cents: string } }>('GetItem', { id: 7 })
    expect(item).toMatchObject({ id: 7, name: 'item-7', price: { cents: '700' } })
    const listed = await shop.serverStream<{ id: number }>('ListItems', { count: 5 })
    expect(listed.messages.map((m) => m.id)).toEqual([0, 1, 2, 3, 4])
    const added = await shop.clientStream<{ count: number }>('shop.Shop/AddItems', [{ id: 1 }, { id: 2 }, { id: 3 }])
    expect(added.count).toBe(3)
    const chat = await shop.bidi<{ text: string }>('/shop.Shop/Chat', ['a', 'b'].map((text) => ({ text })))
    expect(chat.messages.map((m) => m.text)).toEqual(['A', 'B'])
    shop.close()

    expect(sink.hits.map((h) => [h.method, h.name, h.status, h.errorKind])).toEqual([
      ['GRPC', '/shop.Shop/GetItem', 0, null],
      ['GRPC', '/shop.Shop/ListItems', 0, null],
      ['GRPC', '/shop.Shop/AddItems', 0, null],
      ['GRPC', '/shop.Shop/Chat', 0, null],
    ])
    const c = server.counts
    for (const m of ['GetItem', 'ListItems', 'AddItems', 'Chat']) expect((c.calls[m] ?? 0) - ((before as Record<string, number>)[m] ?? 0)).toBe(1)
    // What the client sent is what the server received, and the reverse.
    expect(sink.messages.out).toBe(c.messagesIn - before.in)
    expect(sink.messages.in).toBe(c.messagesOut - before.out)
    expect(sink.messages.out).toBe(1 + 1 + 3 + 2)
    expect(sink.messages.in).toBe(1 + 5 + 1 + 2)
    expect(sink.messages.bytesIn).toBeGreaterThan(0)
    expect(c.users.has('u1')).toBe(true)
    expect(sink.hits.every((h) => h.totalUs > 0 && h.ttfbUs > 0 && h.ttfbUs <= h.totalUs)).toBe(true)
  })

  it('records a status other than OK (NOT_FOUND, DEADLINE_EXCEEDED) as the hit status, and rejects with a GrpcError', async () => {
    const sink = new GrpcSink()
    const shop = new GrpcClient(`grpc://127.0.0.1:${server.port}`, { proto: 'shop.proto', service: 'shop.Shop' }, context(sink))
    const missing = await shop.unary('GetItem', { id: 404 }).catch((e: unknown) => e)
    expect(missing).toBeInstanceOf(GrpcError)
    expect((missing as GrpcError).kind).toBe('NOT_FOUND')
    expect((missing as GrpcError).message).toBe('/shop.Shop/GetItem: NOT_FOUND: no item 404')
    const started = performance.now()
    const late = await shop.unary('GetItem', { id: -1 }, { deadlineMs: 200 }).catch((e: unknown) => e)
    expect((late as GrpcError).kind).toBe('DEADLINE_EXCEEDED')
    expect(performance.now() - started).toBeLessThan(3000)
    shop.close()
    expect(sink.hits.map((h) => h.status)).toEqual([5, 4])
  })

  it('a refused connection is a hit with status UNAVAILABLE; its stack points at the line of the call', async () => {
    const sink = new GrpcSink()
    const shop = await refusedClient(sink)
    const line = Number(/grpc-client\.test\.ts:(\d+):/.exec(new Error().stack ?? '')?.[1]) + 1
    const err = await shop.unary('GetItem', { id: 1 }).catch((e: unknown) => e)
    shop.close()
    expect((err as GrpcError).kind).toBe('UNAVAILABLE')
    expect((err as GrpcError).message).toMatch(/ECONNREFUSED/)
    // Raised by grpc-js's callback, yet its first frame is this test's call of GetItem.
    const frames = ((err as GrpcError).stack ?? '').split('\n').filter((l) => /^\s+at /.test(l))
    expect(frames[0]).toMatch(new RegExp(`grpc-client\\.test\\.ts:${line}:\\d+\\)?$`))
    expect(sink.hits.map((h) => [h.name, h.status])).toEqual([['/shop.Shop/GetItem', 14]])
  })

  it('two tests calling the same method from their own lines: each error points at its own line', async () => {
    const sink = new GrpcSink()
    let test = 'Shop.test_first'
    const shop = await refusedClient(sink, () => test)
    const first = Number(/grpc-client\.test\.ts:(\d+):/.exec(new Error().stack ?? '')?.[1]) + 1
    const a = await shop.unary('GetItem', { id: 1 }).catch((e: unknown) => e)
    test = 'Shop.test_second'
    const second = Number(/grpc-client\.test\.ts:(\d+):/.exec(new Error().stack ?? '')?.[1]) + 1
    const b = await shop.unary('GetItem', { id: 1 }).catch((e: unknown) => e)
    test = 'Shop.test_first'
    const c = await shop.unary('GetItem', { id: 1 }).catch((e: unknown) => e)
    shop.close()
    const firstFrame = (err: unknown): string => ((err as Error).stack ?? '').split('\n').find((l) => /^\s+at /.test(l)) ?? ''
    expect(firstFrame(a)).toMatch(new RegExp(`grpc-client\\.test\\.ts:${first}:\\d+\\)?$`))
    // Before, the second test's error showed the first test's line (one call site per method).
    expect(firstFrame(b)).toMatch(new RegExp(`grpc-client\\.test\\.ts:${second}:\\d+\\)?$`))
    // The first test again, from a third line: its own first line (one call site per test and method).
    expect(firstFrame(c)).toMatch(new RegExp(`grpc-client\\.test\\.ts:${first}:\\d+\\)?$`))
    expect(sink.hits.map((h) => h.status)).toEqual([14, 14, 14])
  })

  it('sets calls up without recording a stack, and puts the call site on an error thrown while setting one up', async () => {
    const sink = new GrpcSink()
    const shop = new GrpcClient(`127.0.0.1:${server.port}`, { proto: 'shop.proto' }, context(sink))
    const limit = Error.stackTraceLimit
    // Their call sites are captured here, once.
    await shop.unary('GetItem', { id: 1 })
    await shop.serverStream('ListItems', { count: 1 })
    // grpc-js's Client records a stack for every call (for its own errors): Loads sets the limit to
    // 0 around it; a unary call goes to the channel, where no stack is taken, and touches nothing.
    // The assignments are watched through an accessor (V8 reads the limit as plain data: with the
    // accessor in place it records no frames at all, which changes nothing here).
    const sets: number[] = []
    let value = limit
    Object.defineProperty(Error, 'stackTraceLimit', { configurable: true, get: () => value, set: (v: number) => void sets.push((value = v)) })
    const calls: unknown[] = []
    const setsOf: number[][] = []
    try {
      calls.push(await shop.unary('GetItem', { id: 2 }))
      setsOf.push(sets.splice(0))
      calls.push((await shop.serverStream('ListItems', { count: 2 })).messages.length)
      setsOf.push(sets.splice(0))
    } finally {
      Object.defineProperty(Error, 'stackTraceLimit', { configurable: true, writable: true, enumerable: true, value: limit })
    }
    expect(calls).toMatchObject([{ id: 2 }, 2])
    expect(setsOf).toEqual([[], [0, limit]])
    expect(Error.stackTraceLimit).toBe(limit)
    // An invalid metadata key throws inside grpc-js while the call is set up: the error carries the
    // line of the call all the same (the first of its test: its call site), and the limit is back.
    const other = new GrpcClient(`127.0.0.1:${server.port}`, { proto: 'shop.proto' }, context(sink, { currentTest: () => 'Shop.test_bad_metadata' }))
    const line = Number(/grpc-client\.test\.ts:(\d+):/.exec(new Error().stack ?? '')?.[1]) + 1
    const bad = await other.unary('GetItem', { id: 1 }, { metadata: { 'bad key': 'x' } }).catch((e: unknown) => e)
    other.close()
    expect((bad as Error).message).toBe('Metadata key "bad key" contains illegal characters')
    const frames = ((bad as Error).stack ?? '').split('\n').filter((l) => /^\s+at /.test(l))
    expect(frames[0]).toMatch(new RegExp(`grpc-client\\.test\\.ts:${line}:\\d+\\)?$`))
    expect(Error.stackTraceLimit).toBe(limit)
    shop.close()
  })

  it('names a missing .proto, an unknown service or method, and a call of the wrong kind', () => {
    const sink = new GrpcSink()
    const make = (proto: string, service?: string): GrpcClient => new GrpcClient('127.0.0.1:1', service === undefined ? { proto } : { proto, service }, context(sink))
    expect(() => make('nope.proto')).toThrow(/gRPC: nope.proto not found next to the test file \(looked in .*fixtures\/grpc\)/)
    expect(() => make('shop.proto', 'shop.Nope')).toThrow("gRPC: unknown service 'shop.Nope'; shop.proto define: shop.Shop")
    const shop = make('shop.proto')
    const unknown = (): unknown => shop.unary('Nope', {})
    expect(unknown).toThrow("gRPC: unknown method 'Nope'; the service has: GetItem, ListItems, AddItems, Chat")
    expect(() => shop.unary('ListItems', {})).toThrow('gRPC: /shop.Shop/ListItems is a server-streaming method: call it with serverStream(), not unary()')
    try {
      make('nope.proto')
    } catch (err) {
      expect((err as LoadsError).code).toBe('LOADS_ERR_GRPC_PROTO')
    }
    shop.close()
    expect(sink.hits).toHaveLength(0)
  })
})

describe('gRPC over TLS, with --resolve', () => {
  let ca: TestCa
  let server: ShopServer
  beforeAll(async () => {
    ca = makeTestCa()
    server = await startShopServer(ca.issue('shop.test', { dnsNames: ['shop.test'] }))
  })
  afterAll(async () => {
    await server.close()
    ca.dispose()
  })

  it('grpcs://shop.test pinned to 127.0.0.1 trusts the CA, keeps the authority, and refuses an unknown CA', async () => {
    const before = server.counts.calls['GetItem'] ?? 0
    const sink = new GrpcSink()
    const resolve = { [`shop.test:${server.port}`]: '127.0.0.1' }
    const shop = new GrpcClient(`grpcs://shop.test:${server.port}`, { proto: 'shop.proto' }, context(sink, { tls: { ca: ca.cert, resolve } }))
    expect(await shop.unary('GetItem', { id: 2 })).toMatchObject({ name: 'item-2' })
    shop.close()
    expect(server.counts.authorities).toEqual(new Set([`shop.test:${server.port}`]))
    const untrusted = new GrpcClient(`grpcs://shop.test:${server.port}`, { proto: 'shop.proto' }, context(sink, { tls: { resolve } }))
    const err = await untrusted.unary('GetItem', { id: 3 }).catch((e: unknown) => e)
    untrusted.close()
    expect((err as GrpcError).kind).toBe('UNAVAILABLE')
    const insecure = new GrpcClient(`grpcs://shop.test:${server.port}`, { proto: 'shop.proto' }, context(sink, { tls: { resolve, insecure: true } }))
    expect(await insecure.unary('GetItem', { id: 4 })).toMatchObject({ name: 'item-4' })
    insecure.close()
    expect((server.counts.calls['GetItem'] ?? 0) - before).toBe(2)
    expect(sink.hits.map((h) => h.status)).toEqual([0, 14, 0])
  })
})

describe('gRPC by server reflection: { reflect: true } instead of .proto files', () => {
  let server: ShopServer
  beforeAll(async () => {
    server = await startShopServer(undefined, { reflection: 'v1+v1alpha' })
  })
  afterAll(() => server.close())

  it('makes all four kinds of call after one reflection call, shared by every client of the target in the worker; reflection is no hit', async ({ task }) => {
    // The worker's reflection cache keeps what a failed attempt learnt of this target: a retry
    // asks a server on a new port, so it too must make its one reflection call.
    if ((task.result?.retryCount ?? 0) > 0) {
      await server.close()
      server = await startShopServer(undefined, { reflection: 'v1+v1alpha' })
    }
    const sink = new GrpcSink()
    const target = `127.0.0.1:${server.port}`
    // Two users' clients, calling at once before either has the services.
    const a = new GrpcClient(target, { reflect: true, metadata: { 'x-user': 'r1' } }, context(sink, { protoRoot: '/nonexistent' }))
    const b = new GrpcClient(`grpc://${target}`, { reflect: true }, context(sink, { protoRoot: '/nonexistent' }))
    const [item, listed, added, chat, other] = await Promise.all([
      a.unary<{ id: number; name: string; price: { cents: string } }>('GetItem', { id: 7 }),
      a.serverStream<{ id: number }>('ListItems', { count: 5 }),
      a.clientStream<{ count: number }>('shop.Shop/AddItems', [{ id: 1 }, { id: 2 }, { id: 3 }]),
      a.bidi<{ text: string }>('/shop.Shop/Chat', ['a', 'b'].map((text) => ({ text }))),
      b.unary<{ name: string }>('GetItem', { id: 8 }),
    ])
    expect(item).toMatchObject({ id: 7, name: 'item-7', price: { cents: '700' } })
    expect(listed.messages.map((m) => m.id)).toEqual([0, 1, 2, 3, 4])
    expect(added.count).toBe(3)
    expect(chat.messages.map((m) => m.text)).toEqual(['A', 'B'])
    expect(other.name).toBe('item-8')
    // A client made after reflection answered calls at once, with no new reflection call.
    const c = new GrpcClient(target, { reflect: true, service: 'shop.Shop' }, context(sink))
    expect(await c.unary<{ name: string }>('GetItem', { id: 9 })).toMatchObject({ name: 'item-9' })
    for (const client of [a, b, c]) client.close()

    expect(server.counts.reflectionCalls).toEqual({ 'grpc.reflection.v1.ServerReflection': 1 })
    // list_services, then file_containing_symbol shop.Shop (its imports come with it).
    expect(server.counts.reflectionRequests).toBe(2)
    expect(server.counts.calls).toEqual({ GetItem: 3, ListItems: 1, AddItems: 1, Chat: 1 })
    expect(sink.hits.map((h) => [h.method, h.name, h.status]).sort()).toEqual(
      [
        ['GRPC', '/shop.Shop/AddItems', 0],
        ['GRPC', '/shop.Shop/Chat', 0],
        ['GRPC', '/shop.Shop/GetItem', 0],
        ['GRPC', '/shop.Shop/GetItem', 0],
        ['GRPC', '/shop.Shop/GetItem', 0],
        ['GRPC', '/shop.Shop/ListItems', 0],
      ].sort(),
    )
    expect(sink.messages.out).toBe(server.counts.messagesIn)
    expect(sink.messages.in).toBe(server.counts.messagesOut)
    expect(server.counts.users).toEqual(new Set(['r1']))
  })

  it('names an unknown method or service as with .proto files, and refuses proto and reflect together', async () => {
    const sink = new GrpcSink()
    const target = `127.0.0.1:${server.port}`
    const shop = new GrpcClient(target, { reflect: true }, context(sink))
    // Reflection of this target answered in the test before: errors come at once, as with .proto files.
    expect(() => shop.unary('Nope', {})).toThrow("gRPC: unknown method 'Nope'; the service has: GetItem, ListItems, AddItems, Chat")
    expect(() => shop.unary('shop.Nope/GetItem', {})).toThrow("gRPC: unknown service 'shop.Nope'; the server (by reflection) defines: shop.Shop")
    expect(() => shop.unary('ListItems', {})).toThrow('gRPC: /shop.Shop/ListItems is a server-streaming method: call it with serverStream(), not unary()')
    shop.close()
    expect(() => new GrpcClient(target, { reflect: true, service: 'shop.Nope' }, context(sink))).toThrow("gRPC: unknown service 'shop.Nope'; the server (by reflection) defines: shop.Shop")
    expect(() => new GrpcClient(target, { reflect: true, proto: 'shop.proto' }, context(sink))).toThrow('gRPC: pass either { proto } or { reflect: true } to this.grpc, not both')
    expect(sink.hits).toHaveLength(0)
  })

  it('falls back to v1alpha when the server offers only that; an unknown method waiting for it rejects at the line of the call', async () => {
    const old = await startShopServer(undefined, { reflection: 'v1alpha' })
    const sink = new GrpcSink()
    const shop = new GrpcClient(`127.0.0.1:${old.port}`, { reflect: true }, context(sink))
    const [item, unknown] = await Promise.all([shop.unary('GetItem', { id: 5 }), shop.unary('Nope', {}).catch((e: unknown) => e)])
    expect(item).toMatchObject({ name: 'item-5' })
    expect((unknown as LoadsError).code).toBe('LOADS_ERR_GRPC_METHOD')
    expect((unknown as LoadsError).message).toBe("gRPC: unknown method 'Nope'; the service has: GetItem, ListItems, AddItems, Chat")
    // Thrown after reflection answered, yet its stack shows the test's line, not grpc-js callbacks.
    expect((unknown as LoadsError).stack).toMatch(/at .*grpc-client\.test\.ts:\d+:/)
    shop.close()
    await old.close()
    expect(old.counts.reflectionCalls).toEqual({ 'grpc.reflection.v1alpha.ServerReflection': 1 })
    expect(old.counts.calls).toEqual({ GetItem: 1 })
    expect(sink.hits.map((h) => [h.name, h.status])).toEqual([['/shop.Shop/GetItem', 0]])
  })

  it("sends the client's metadata on its reflection call: a server that wants a token on every call answers it", async () => {
    const guarded = await startShopServer(undefined, { reflection: 'v1+v1alpha', reflectionToken: 'secret' })
    const sink = new GrpcSink()
    const shop = new GrpcClient(`127.0.0.1:${guarded.port}`, { reflect: true, metadata: { authorization: 'Bearer secret', 'x-user': 'r2' } }, context(sink))
    const items = await Promise.all([1, 2, 3].map((id) => shop.unary<{ name: string }>('GetItem', { id }).catch((e: unknown) => e)))
    shop.close()
    await guarded.close()
    expect(items.map((i) => (i instanceof Error ? i.message : (i as { name: string }).name))).toEqual(['item-1', 'item-2', 'item-3'])
    expect(guarded.counts.reflectionRefused).toBe(0)
    expect(guarded.counts.reflectionCalls).toEqual({ 'grpc.reflection.v1.ServerReflection': 1 })
    expect(guarded.counts.calls).toEqual({ GetItem: 3 })
    expect(sink.hits.map((h) => [h.name, h.status])).toEqual([
      ['/shop.Shop/GetItem', 0],
      ['/shop.Shop/GetItem', 0],
      ['/shop.Shop/GetItem', 0],
    ])
  })

  it('a server without reflection is a clear error saying to pass proto; a refused connection is a hit with status UNAVAILABLE', async () => {
    const plain = await startShopServer()
    const sink = new GrpcSink()
    const shop = new GrpcClient(`127.0.0.1:${plain.port}`, { reflect: true }, context(sink))
    const err = await shop.unary('GetItem', { id: 1 }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(LoadsError)
    expect((err as LoadsError).code).toBe('LOADS_ERR_GRPC_REFLECTION')
    expect((err as LoadsError).message).toBe(`gRPC: 127.0.0.1:${plain.port} has no server reflection (UNIMPLEMENTED): pass { proto: 'service.proto' } instead`)
    // Kept: the next call does not ask again.
    await expect(shop.bidi('Chat', [])).rejects.toThrow('has no server reflection')
    shop.close()
    await plain.close()
    expect(plain.counts.calls).toEqual({})
    expect(sink.hits).toHaveLength(0)

    const probe = await startShopServer()
    const port = probe.port
    await probe.close()
    const refused = new GrpcClient(`127.0.0.1:${port}`, { reflect: true, service: 'shop.Shop' }, context(sink))
    const down = await refused.unary('GetItem', { id: 1 }).catch((e: unknown) => e)
    const again = await refused.unary('GetItem', { id: 1 }).catch((e: unknown) => e)
    refused.close()
    expect((down as GrpcError).kind).toBe('UNAVAILABLE')
    expect((down as GrpcError).message).toMatch(/ECONNREFUSED/)
    expect((again as GrpcError).kind).toBe('UNAVAILABLE')
    expect(sink.hits.map((h) => [h.name, h.status])).toEqual([
      ['/shop.Shop/GetItem', 14],
      ['/shop.Shop/GetItem', 14],
    ])
  })
})
