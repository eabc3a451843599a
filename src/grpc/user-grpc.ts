import { GrpcClient, type GrpcContext, type GrpcOptions } from './grpc-client.js'

/**
 * The gRPC clients one virtual user opened: each keeps its channel for the user's life (its
 * connection is reused run after run, as the user's HTTP connections are) and all are closed
 * when the user ends. The same target and options (equal values, not the same object: tests
 * write `this.grpc(target, { proto })` in every run) give the same client back.
 */
export class UserGrpc {
  /** By target: the options each client was opened with (a copy), and the client. */
  readonly #clients = new Map<string, { options: unknown; client: GrpcClient }[]>()

  constructor(private readonly context: () => GrpcContext) {}

  client(target: string, options: GrpcOptions): GrpcClient {
    // Compared in place, not by a key built per call: this runs for every call of every user.
    let opened = this.#clients.get(target)
    if (opened !== undefined) {
      for (const entry of opened) if (sameValue(entry.options, options)) return entry.client
    } else {
      opened = []
      this.#clients.set(target, opened)
    }
    const client = new GrpcClient(target, options, this.context())
    // A copy: a test that changes its options object later asks for another client.
    opened.push({ options: options === undefined ? undefined : (JSON.parse(JSON.stringify(options)) as unknown), client })
    return client
  }

  /** Closes every channel; calls still in flight end with CANCELLED. */
  closeAll(): void {
    const clients = [...this.#clients.values()].flat()
    this.#clients.clear()
    for (const { client } of clients) client.close()
  }
}

/**
 * Equal as JSON would write them (the options are strings, numbers, booleans, arrays and plain
 * records): a property holding undefined is the same as none.
 */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false
    for (let i = 0; i < a.length; i++) if (!sameValue(a[i], b[i])) return false
    return true
  }
  if (Array.isArray(b)) return false
  const x = a as Record<string, unknown>
  const y = b as Record<string, unknown>
  for (const k in x) if (x[k] !== undefined && !sameValue(x[k], y[k])) return false
  for (const k in y) if (y[k] !== undefined && x[k] === undefined) return false
  return true
}
