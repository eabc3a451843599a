/**
 * Server-sent events to the dashboard's pages: one `view` event per update, JSON data.
 *
 * Each client holds at most one update beyond its socket's buffer: a client that does not read
 * (a stalled tab, a paused curl) is skipped until it drained, then gets one whole view (the
 * updates it missed coalesced), and one stalled for `dropAfterMs` is dropped. Memory stays flat
 * whatever the clients do (5 stalled clients once took the runner from 317 to 554 MB in 40 s).
 */
import type { ServerResponse } from 'node:http'

export interface EventClient {
  res: ServerResponse
  /** Whether this client already has the whole series (later messages carry only its tail). */
  hasFullSeries: boolean
  /** Since when (ms since epoch) the client has not drained what it was sent; 0 when it has. */
  behindSinceMs: number
  /** Updates skipped because the client was behind. */
  skipped: number
}

export interface EventStreamOptions {
  /** A client behind for this long is dropped (default 30 s). */
  dropAfterMs?: number
  now?: () => number
}

export class EventStream {
  readonly clients = new Set<EventClient>()
  readonly #dropAfterMs: number
  readonly #now: () => number

  constructor(opts: EventStreamOptions = {}) {
    this.#dropAfterMs = opts.dropAfterMs ?? 30_000
    this.#now = opts.now ?? Date.now
  }

  open(res: ServerResponse): EventClient {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-content-type-options': 'nosniff',
    })
    // Reconnect quickly after a blip; a closed server stays closed once the run is over.
    res.write('retry: 1000\n\n')
    const client: EventClient = { res, hasFullSeries: false, behindSinceMs: 0, skipped: 0 }
    this.clients.add(client)
    res.on('close', () => this.clients.delete(client))
    return client
  }

  /**
   * Whether `client` can take an update now. One that cannot is marked to get the whole series
   * next time (it missed tails), and dropped once it has been behind for too long.
   */
  ready(client: EventClient): boolean {
    if (!client.res.writableNeedDrain) {
      client.behindSinceMs = 0
      return true
    }
    const now = this.#now()
    if (client.behindSinceMs === 0) client.behindSinceMs = now
    client.skipped++
    client.hasFullSeries = false
    if (now - client.behindSinceMs >= this.#dropAfterMs) {
      this.clients.delete(client)
      client.res.destroy()
    }
    return false
  }

  send(client: EventClient, event: string, data: string): void {
    client.res.write(`event: ${event}\ndata: ${data}\n\n`)
  }

  /** Bytes written to clients and not yet taken by their sockets: bounded by about one update each. */
  bufferedBytes(): number {
    let n = 0
    for (const c of this.clients) n += c.res.writableLength
    return n
  }

  endAll(): void {
    for (const c of this.clients) c.res.end()
    this.clients.clear()
  }
}
