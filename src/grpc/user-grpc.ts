import { GrpcClient, type GrpcContext, type GrpcOptions } from './grpc-client.js'

/**
 * The gRPC clients one virtual user opened: each keeps its channel for the user's life (its
 * connection is reused run after run, as the user's HTTP connections are) and all are closed
 * when the user ends. The same target and options give the same client back.
 */
export class UserGrpc {
  readonly #clients = new Map<string, GrpcClient>()

  constructor(private readonly context: () => GrpcContext) {}

  client(target: string, options: GrpcOptions): GrpcClient {
    const key = JSON.stringify([target, options])
    let client = this.#clients.get(key)
    if (client === undefined) {
      client = new GrpcClient(target, options, this.context())
      this.#clients.set(key, client)
    }
    return client
  }

  /** Closes every channel; calls still in flight end with CANCELLED. */
  closeAll(): void {
    const clients = [...this.#clients.values()]
    this.#clients.clear()
    for (const client of clients) client.close()
  }
}
