import type { buildConnector } from 'undici'
import { H2Links } from './h2-link.js'
import { TlsSessionCache } from './tls-session-cache.js'

/**
 * What the users of one worker share about connections: TLS sessions (a reconnect, or a new
 * user's first connect, resumes instead of a full handshake), HTTP/2 links (`--h2-streams`) and
 * the TLS connectors of undici's clients (each keeps its own session cache, so one per origin
 * serves every user). A Session made without one gets its own.
 */
export class ConnectionShare {
  readonly tlsSessions = new TlsSessionCache()
  readonly h2Links: H2Links
  /** undici connectors by origin (their options are the worker's, the same for every user). */
  readonly connectors = new Map<string, buildConnector.connector>()

  /** @param h2StreamsPerConnection users of the worker sharing one HTTP/2 connection (default 1: one each). */
  constructor(h2StreamsPerConnection = 1) {
    this.h2Links = new H2Links(h2StreamsPerConnection)
  }
}
