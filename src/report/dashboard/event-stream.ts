/** Server-sent events to the dashboard's pages: one `view` event per update, JSON data. */
import type { ServerResponse } from 'node:http'

export interface EventClient {
  res: ServerResponse
  /** Whether this client already has the whole series (later messages carry only its tail). */
  hasFullSeries: boolean
}

export class EventStream {
  readonly clients = new Set<EventClient>()

  open(res: ServerResponse): EventClient {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-content-type-options': 'nosniff',
    })
    // Reconnect quickly after a blip; a closed server stays closed once the run is over.
    res.write('retry: 1000\n\n')
    const client: EventClient = { res, hasFullSeries: false }
    this.clients.add(client)
    res.on('close', () => this.clients.delete(client))
    return client
  }

  send(client: EventClient, event: string, data: string): void {
    client.res.write(`event: ${event}\ndata: ${data}\n\n`)
  }

  endAll(): void {
    for (const c of this.clients) c.res.end()
    this.clients.clear()
  }
}
