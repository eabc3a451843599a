import type { NatsConnection } from '@nats-io/transport-node'
import { RECONNECT_GRACE_MS, SILENCE_LIMIT_MS } from './protocol.js'

/**
 * Follows our own link to the broker, so that silence is judged fairly: while we are cut off
 * we hear nobody, and that says nothing about them. Peers are only counted silent while we are
 * connected, and get a grace period after each of our reconnects.
 */
export class ConnectionWatch {
  #connected = true
  #disconnectedAtMs: number | undefined
  #lastReconnectMs = Number.NEGATIVE_INFINITY
  readonly #now: () => number
  readonly #listeners = new Set<(event: 'disconnect' | 'reconnect') => void>()

  constructor(nc: NatsConnection, now: () => number = Date.now) {
    this.#now = now
    void this.#follow(nc)
  }

  get connected(): boolean {
    return this.#connected
  }

  /** How long the broker has been unreachable; 0 while connected. */
  outageMs(now = this.#now()): number {
    return this.#connected || this.#disconnectedAtMs === undefined ? 0 : now - this.#disconnectedAtMs
  }

  /**
   * How long a peer last heard at `lastHeardMs` has been silent, as far as we can tell: 0 while we
   * are disconnected, and never counting the time before our last reconnect plus the grace.
   */
  silenceMs(lastHeardMs: number, now = this.#now()): number {
    if (!this.#connected) return 0
    const since = Math.max(lastHeardMs, this.#lastReconnectMs + RECONNECT_GRACE_MS - SILENCE_LIMIT_MS)
    return Math.max(0, now - since)
  }

  onChange(listener: (event: 'disconnect' | 'reconnect') => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  async #follow(nc: NatsConnection): Promise<void> {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect' || s.type === 'staleConnection') {
        if (this.#connected) this.#disconnectedAtMs = this.#now()
        this.#connected = false
        for (const l of this.#listeners) l('disconnect')
      } else if (s.type === 'reconnect') {
        this.#connected = true
        this.#disconnectedAtMs = undefined
        this.#lastReconnectMs = this.#now()
        for (const l of this.#listeners) l('reconnect')
      }
    }
  }
}
