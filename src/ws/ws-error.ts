import { LoadsError } from '../errors.js'

/**
 * Why a WebSocket call failed. `kind` is what a failed run's error is grouped by: HANDSHAKE (the
 * server answered `status` instead of 101), a network kind (ECONNREFUSED, TIMEOUT, TLS …),
 * CLOSED, NOT_OPEN, ABORTED (the run was stopped) or INVALID_URL.
 */
export class WsError extends LoadsError {
  readonly kind: string
  readonly url: string
  /** The handshake's HTTP status when kind is HANDSHAKE, else 0. */
  readonly status: number

  constructor(kind: string, url: string, message: string, options: { status?: number; cause?: unknown } = {}) {
    super('LOADS_ERR_WEBSOCKET', `${message} (WS ${url})`, { cause: options.cause })
    this.name = 'WsError'
    this.kind = kind
    this.url = url
    this.status = options.status ?? 0
  }
}
