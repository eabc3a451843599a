import tls from 'node:tls'
import type { TlsOptions } from './origin-connection.js'

/**
 * TLS sessions (tickets) by origin, so a reconnect resumes the session instead of doing a full
 * handshake, as browsers and curl do. One cache serves the users of a worker: a user who opens
 * its first connection to an origin resumes a session another user obtained.
 *
 * Bounded: at most `maxEntries` origins; the oldest origin is forgotten first.
 */
export class TlsSessionCache {
  readonly #sessions = new Map<string, Buffer>()
  readonly #maxEntries: number
  /** Secure contexts by their CA, certificate and key (every user of a worker has the same). */
  readonly #contexts = new Map<string, tls.SecureContext>()

  constructor(maxEntries = 100) {
    this.#maxEntries = maxEntries
  }

  /** The latest session received from `origin`, if any. */
  get(origin: string): Buffer | undefined {
    return this.#sessions.get(origin)
  }

  /** Keeps `session` (a tls socket's 'session' event) for the next connection to `origin`. */
  set(origin: string, session: Buffer): void {
    if (!this.#sessions.has(origin) && this.#sessions.size >= this.#maxEntries) {
      const oldest = this.#sessions.keys().next().value
      if (oldest !== undefined) this.#sessions.delete(oldest)
    }
    this.#sessions.set(origin, session)
  }

  /**
   * The secure context (trusted CAs, client certificate) of `options`, made once: each
   * tls.connect without one builds its own, which costs more than the resumed handshake itself.
   */
  secureContext(options: TlsOptions): tls.SecureContext {
    const key = `${String(options.ca ?? '')}\0${String(options.cert ?? '')}\0${String(options.key ?? '')}`
    let context = this.#contexts.get(key)
    if (context === undefined) {
      const contextOptions: tls.SecureContextOptions = {}
      if (options.ca !== undefined) contextOptions.ca = options.ca
      if (options.cert !== undefined) contextOptions.cert = options.cert
      if (options.key !== undefined) contextOptions.key = options.key
      context = tls.createSecureContext(contextOptions)
      this.#contexts.set(key, context)
    }
    return context
  }

  /** How many origins have a session. */
  get size(): number {
    return this.#sessions.size
  }
}
