/** One WebSocket message as received: the payload's bytes, decoded only when asked. */
export class WsMessage {
  /** @param data the payload (a text message's UTF-8 bytes). */
  constructor(
    readonly data: Buffer,
    readonly isBinary: boolean,
  ) {}

  /** The payload decoded as UTF-8. */
  get text(): string {
    return this.data.toString('utf8')
  }

  /** The payload parsed as JSON. */
  json<T = unknown>(): T {
    return JSON.parse(this.text) as T
  }

  /** Payload bytes. */
  get size(): number {
    return this.data.length
  }
}
