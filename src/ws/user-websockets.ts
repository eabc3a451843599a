import { WsClient, type WsOptions, type WsUserContext } from './ws-client.js'

/**
 * The WebSockets one virtual user opened: closed (1001, going away) when the user ends, dropped
 * when the run is stopped, so a test that forgets `close()` leaks nothing past its user.
 */
export class UserWebSockets {
  readonly #clients = new Set<WsClient>()

  constructor(private readonly context: () => WsUserContext) {}

  create(url: string, options: WsOptions = {}): WsClient {
    const client = new WsClient(url, options, this.context())
    this.#clients.add(client)
    client.once('close', () => this.#clients.delete(client))
    return client
  }

  /** Closes every client still open and waits for them (each bounded by its timeout). */
  async closeAll(): Promise<void> {
    const clients = [...this.#clients]
    this.#clients.clear()
    await Promise.all(clients.map((c) => c.close(1001, 'virtual user ended').catch(() => undefined)))
  }

  /** Drops every connection at once. */
  terminateAll(): void {
    for (const client of this.#clients) client.terminate()
  }
}
