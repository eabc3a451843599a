import type { NatsConnection } from '@nats-io/transport-node'
import { RECONNECT_GRACE_MS, SILENCE_LIMIT_MS } from './protocol.js'

/** How often the broker is asked for a PONG (a flush), ms. */
export const BROKER_PROBE_MS = 1000
/** A broker whose PONG is this late counts as not answering (frozen, or stalled), ms. */
export const BROKER_STALL_MS = 2500

/**
 * Follows our own link to the broker, so that silence is judged fairly: while we are cut off
 * we hear nobody, and that says nothing about them. Peers are only counted silent while we are
 * connected and the broker answers, and get a grace period after each of our reconnects.
 *
 * A broker can also stop answering with its sockets still open (SIGSTOP, a stalled host): the
 * TCP link looks fine and only its PONGs tell. A probe asks for one every second; while one is
 * `BROKER_STALL_MS` late the broker is "stalled", which counts as an outage.
 */
export class ConnectionWatch {
  #connected = true
  #disconnectedAtMs: number | undefined
  #lastReconnectMs = Number.NEGATIVE_INFINITY
  /** When the probe's outstanding PING left; undefined when none is outstanding. */
  #probeSentMs: number | undefined
  #stalled = false
  /**
   * When the last PING the broker answered was sent: anything a peer published before then
   * has reached us. Silence is only counted up to there — a frozen broker silences everyone.
   */
  #answeredUpToMs: number | undefined
  readonly #now: () => number
  readonly #listeners = new Set<(event: 'disconnect' | 'reconnect' | 'stall' | 'answer') => void>()
  readonly #probe: NodeJS.Timeout | undefined

  constructor(
    private readonly nc: NatsConnection,
    now: () => number = Date.now,
    probe = true,
  ) {
    this.#now = now
    void this.#follow(nc)
    if (probe) {
      this.#answeredUpToMs = now()
      this.#probe = setInterval(() => this.#tick(), BROKER_PROBE_MS / 4)
      this.#probe.unref()
    }
  }

  get connected(): boolean {
    return this.#connected
  }

  /** The broker has not answered a PING for `BROKER_STALL_MS` though our socket is open. */
  get stalled(): boolean {
    return this.#stalled
  }

  /** How long the broker has been unreachable or not answering; 0 while it answers. */
  outageMs(now = this.#now()): number {
    if (!this.#connected && this.#disconnectedAtMs !== undefined) return now - this.#disconnectedAtMs
    return this.#stalled && this.#probeSentMs !== undefined ? now - this.#probeSentMs : 0
  }

  /**
   * How long a peer last heard at `lastHeardMs` has been silent, as far as we can tell: 0 while we
   * are disconnected or the broker stalls; counted only up to the last PING the broker answered
   * (what a peer sent before it has reached us); never counting the time before our last
   * reconnect (or the end of a stall) plus the grace.
   */
  silenceMs(lastHeardMs: number, now = this.#now()): number {
    if (!this.#connected || this.#stalled) return 0
    const upTo = this.#answeredUpToMs === undefined ? now : Math.min(now, this.#answeredUpToMs)
    const since = Math.max(lastHeardMs, this.#lastReconnectMs + RECONNECT_GRACE_MS - SILENCE_LIMIT_MS)
    return Math.max(0, upTo - since)
  }

  onChange(listener: (event: 'disconnect' | 'reconnect' | 'stall' | 'answer') => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  /** Stops the probe (the connection is being closed). */
  close(): void {
    clearInterval(this.#probe)
  }

  #emit(event: 'disconnect' | 'reconnect' | 'stall' | 'answer'): void {
    for (const l of this.#listeners) l(event)
  }

  #tick(): void {
    if (this.nc.isClosed()) return this.close()
    const now = this.#now()
    if (this.#probeSentMs === undefined) {
      if (!this.#connected) return
      const sent = now
      this.#probeSentMs = sent
      this.nc.flush().then(
        () => this.#answered(sent),
        () => {
          // Disconnected meanwhile: the status stream says so; the next probe starts afresh.
          if (this.#probeSentMs === sent) this.#probeSentMs = undefined
        },
      )
      return
    }
    if (!this.#stalled && this.#connected && now - this.#probeSentMs > BROKER_STALL_MS) {
      this.#stalled = true
      this.#emit('stall')
    }
  }

  #answered(sent: number): void {
    if (this.#probeSentMs !== sent) return
    this.#probeSentMs = undefined
    this.#answeredUpToMs = sent
    if (this.#stalled) {
      this.#stalled = false
      // What peers sent during the stall arrives now; they get the same grace as after a reconnect.
      this.#lastReconnectMs = this.#now()
      this.#emit('answer')
    }
  }

  async #follow(nc: NatsConnection): Promise<void> {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect' || s.type === 'staleConnection') {
        // A stall that ends in a disconnect is one outage, from the stall's start.
        if (this.#connected) this.#disconnectedAtMs = this.#stalled && this.#probeSentMs !== undefined ? this.#probeSentMs : this.#now()
        this.#connected = false
        this.#stalled = false
        this.#probeSentMs = undefined
        this.#emit('disconnect')
      } else if (s.type === 'reconnect') {
        this.#connected = true
        this.#disconnectedAtMs = undefined
        this.#lastReconnectMs = this.#now()
        this.#emit('reconnect')
      }
    }
  }
}
