import type { HitSink } from '../stats/hit-sink.js'
import type { InFlight } from '../stats/in-flight.js'
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
  /** The worker's gauge of requests in flight (for the age of the oldest), or null. */
  readonly inFlight: InFlight | null
  /** Bumped by abort(): a request started under an older epoch was aborted. */
  abortEpoch = 0
  readonly #tls: ConnectionOptions
  readonly #connectTimeoutMs: number
  readonly #connections = new Map<string, OriginConnection>()
  readonly #onStrayBytes = (): void => this.sink.recordStrayBytes?.()

  constructor(sink: HitSink, cookies: SessionCookies, tls: ConnectionOptions, connectTimeoutMs: number, inFlight: InFlight | null = null) {
    this.sink = sink
    this.inFlight = inFlight
    this.cookies = cookies
    this.#tls = tls
    this.#connectTimeoutMs = connectTimeoutMs
  }

  /** The user's connection to `origin` (`http://host:port`), created on first use. */
  connectionFor(origin: string): OriginConnection {
    let connection = this.#connections.get(origin)
    if (connection === undefined) {
      connection = new OriginConnection(origin, this.#tls, this.#connectTimeoutMs, this.#onStrayBytes)
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
