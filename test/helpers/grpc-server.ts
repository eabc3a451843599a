import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { loadPackageDefinition, Metadata, Server, ServerCredentials, status, type ServerDuplexStream, type ServerReadableStream, type ServerUnaryCall, type ServerWritableStream, type sendUnaryData } from '@grpc/grpc-js'
import { loadSync } from '@grpc/proto-loader'
import { expect } from 'vitest'
import { RecordingSink } from './http-servers.js'
import { resetOnRetry } from './retry-reset.js'

/** test/fixtures/grpc: shop.proto (the Shop service) and money.proto, which it imports. */
export const PROTO_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'grpc')

/** Hits, plus the messages of each call, as the recorder would count them. */
export class GrpcSink extends RecordingSink {
  readonly messages = { in: 0, out: 0, bytesIn: 0, bytesOut: 0 }
  recordStreamMessage(method: string, _name: string, direction: 'in' | 'out', bytes: number): void {
    expect(method).toBe('GRPC')
    this.messages[direction]++
    if (direction === 'in') this.messages.bytesIn += bytes
    else this.messages.bytesOut += bytes
  }
}

/** What the server received, counted by itself. */
export interface ShopCounts {
  /** Calls per method name (GetItem, ListItems, AddItems, Chat). */
  calls: Record<string, number>
  /** Messages the server received and sent, all calls. */
  messagesIn: number
  messagesOut: number
  /** `x-user` metadata values seen, and the `:authority` of each call. */
  users: Set<string>
  authorities: Set<string>
  /** Reflection calls (ServerReflectionInfo streams) by service name, and the requests in them. */
  reflectionCalls: Record<string, number>
  reflectionRequests: number
  /** Reflection calls refused for want of the token (`reflectionToken`). */
  reflectionRefused: number
}

/** Which reflection services the server offers: both (as @grpc/reflection adds), only v1alpha, or none. */
export type ReflectionOffer = 'v1+v1alpha' | 'v1alpha' | 'none'

export interface ShopServer {
  port: number
  counts: ShopCounts
  close(): Promise<void>
}

type Item = { id: number; name: string; price?: { cents: string; currency: string } }

/**
 * A @grpc/grpc-js Shop server on 127.0.0.1, port 0. GetItem answers `item-<id>`, NOT_FOUND for
 * id 404, and never for id -1 (deadlines); ListItems streams `count` items; AddItems counts the
 * items it receives; Chat echoes each note upper-cased.
 */
export async function startShopServer(
  tls?: { key: string; cert: string },
  /** `reflectionToken`: reflection calls without `authorization: Bearer <it>` fail UNAUTHENTICATED, as behind an interceptor that wants it on every call. */
  options: { reflection?: ReflectionOffer; reflectionToken?: string } = {},
): Promise<ShopServer> {
  const def = loadSync(path.join(PROTO_DIR, 'shop.proto'), { keepCase: true, longs: String, enums: String, defaults: true, includeDirs: [PROTO_DIR] })
  const shop = (loadPackageDefinition(def) as unknown as { shop: { Shop: { service: never } } }).shop
  const counts: ShopCounts = { calls: {}, messagesIn: 0, messagesOut: 0, users: new Set(), authorities: new Set(), reflectionCalls: {}, reflectionRequests: 0, reflectionRefused: 0 }
  const seen = (name: string, metadata: Metadata, host: string): void => {
    counts.authorities.add(host)
    counts.calls[name] = (counts.calls[name] ?? 0) + 1
    const user = metadata.get('x-user')[0]
    if (user !== undefined) counts.users.add(String(user))
  }
  const server = new Server()
  const pending = new Set<() => void>()
  server.addService(shop.Shop.service, {
    GetItem(call: ServerUnaryCall<{ id: number }, Item>, callback: sendUnaryData<Item>) {
      seen('GetItem', call.metadata, call.getHost())
      counts.messagesIn++
      const id = call.request.id
      if (id === -1) {
        pending.add(() => callback({ code: status.CANCELLED }))
        return
      }
      if (id === 404) {
        callback({ code: status.NOT_FOUND, details: `no item ${id}` })
        return
      }
      counts.messagesOut++
      callback(null, { id, name: `item-${id}`, price: { cents: String(id * 100), currency: 'EUR' } })
    },
    ListItems(call: ServerWritableStream<{ count: number }, Item>) {
      seen('ListItems', call.metadata, call.getHost())
      counts.messagesIn++
      for (let i = 0; i < call.request.count; i++) {
        counts.messagesOut++
        call.write({ id: i, name: `item-${i}` })
      }
      call.end()
    },
    AddItems(call: ServerReadableStream<Item, { count: number }>, callback: sendUnaryData<{ count: number }>) {
      seen('AddItems', call.metadata, call.getHost())
      let n = 0
      call.on('data', () => {
        n++
        counts.messagesIn++
      })
      call.on('end', () => {
        counts.messagesOut++
        callback(null, { count: n })
      })
    },
    Chat(call: ServerDuplexStream<{ text: string }, { text: string }>) {
      seen('Chat', call.metadata, call.getHost())
      call.on('data', (note: { text: string }) => {
        counts.messagesIn++
        counts.messagesOut++
        call.write({ text: note.text.toUpperCase() })
      })
      call.on('end', () => call.end())
    },
  })
  if (options.reflection !== undefined && options.reflection !== 'none') {
    const only = options.reflection === 'v1alpha' ? 'grpc.reflection.v1alpha.' : ''
    // Loaded here, not at the top: a checkout whose node_modules predates this devDependency
    // still runs every other gRPC test. Its services are added through a counting wrapper.
    const { ReflectionService } = await import('@grpc/reflection')
    new ReflectionService(def).addToServer({
      addService(service, implementation) {
        const path = Object.values(service)[0]!.path
        const name = path.slice(1, path.lastIndexOf('/'))
        if (!name.startsWith(only)) return
        const handlers: Record<string, (call: ServerDuplexStream<unknown, unknown>) => void> = {}
        for (const [method, handler] of Object.entries(implementation as Record<string, (call: ServerDuplexStream<unknown, unknown>) => void>)) {
          handlers[method] = (call) => {
            if (options.reflectionToken !== undefined && call.metadata.get('authorization')[0] !== `Bearer ${options.reflectionToken}`) {
              counts.reflectionRefused++
              call.emit('error', { code: status.UNAUTHENTICATED, details: 'a token is needed' })
              return
            }
            counts.reflectionCalls[name] = (counts.reflectionCalls[name] ?? 0) + 1
            call.on('data', () => counts.reflectionRequests++)
            handler(call)
          }
        }
        server.addService(service, handlers)
      },
    })
  }
  const credentials = tls === undefined ? ServerCredentials.createInsecure() : ServerCredentials.createSsl(null, [{ private_key: Buffer.from(tls.key), cert_chain: Buffer.from(tls.cert) }])
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', credentials, (err, p) => (err ? reject(err) : resolve(p))))
  const forget = resetOnRetry(() => Object.assign(counts, { calls: {}, messagesIn: 0, messagesOut: 0, users: new Set(), authorities: new Set(), reflectionCalls: {}, reflectionRequests: 0, reflectionRefused: 0 }))
  return {
    port,
    counts,
    close: () =>
      new Promise<void>((resolve) => {
        forget()
        for (const release of pending) release()
        server.tryShutdown(() => resolve())
        setTimeout(() => server.forceShutdown(), 2000).unref()
      }),
  }
}
