import type { HitSink } from '../stats/hit-sink.js'
import type { SessionCookies } from './cookie-jar.js'
import { OriginConnection, type ConnectionOptions } from './origin-connection.js'

/**
 * What the requests of one session share: where hits go, the cookie jar, and the user's
 * connections (one per origin, opened lazily). Kept apart from `Session` so the public class
 * shows only the Requests-like API.
 */
export class SessionState {
  readonly sink: HitSink
  readonly cookies: SessionCookies
  /** Bumped by abort(): a request started under an older epoch was aborted. */
  abortEpoch = 0
  readonly #tls: ConnectionOptions
  readonly #connectTimeoutMs: number
  readonly #connections = new Map<string, OriginConnection>()

  constructor(sink: HitSink, cookies: SessionCookies, tls: ConnectionOptions, connectTimeoutMs: number) {
    this.sink = sink
    this.cookies = cookies
    this.#tls = tls
    this.#connectTimeoutMs = connectTimeoutMs
  }

  /** The user's connection to `origin` (`http://host:port`), created on first use. */
  connectionFor(origin: string): OriginConnection {
    let connection = this.#connections.get(origin)
    if (connection === undefined) {
      connection = new OriginConnection(origin, this.#tls, this.#connectTimeoutMs)
      this.#connections.set(origin, connection)
    }
    return connection
  }

  /** Fails every in-flight request and drops the connections; later requests reconnect. */
  abortAll(): void {
    this.abortEpoch++
    const connections = [...this.#connections.values()]
    this.#connections.clear()
    for (const connection of connections) {
      connection.client.destroy(new Error('aborted by Session.abort()')).catch(() => {})
    }
  }

  /** Closes every connection once its in-flight request (if any) has finished. */
  async closeAll(): Promise<void> {
    const connections = [...this.#connections.values()]
    this.#connections.clear()
    await Promise.all(connections.map((connection) => connection.client.close()))
  }
}
