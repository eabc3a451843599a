import net from 'node:net'
import tls from 'node:tls'
import type { TlsOptions } from './origin-connection.js'
import type { LookupFunction } from './resolve-map.js'
import type { TlsSessionCache } from './tls-session-cache.js'

/**
 * Opens a TLS connection for HTTP/1.1 to `url` (ALPN `http/1.1`), as undici's connector would:
 * SNI for host names (not IP addresses), the session's CAs and client certificate, `--resolve`'s
 * pinned address, and the worker's TLS session for the origin, resumed when there is one (each
 * new session ticket the server sends replaces it). `onread`: decrypted bytes go to its callback
 * instead of 'data' events (no Readable stream in the way, as for plain sockets).
 */
export function openTlsSocket(url: URL, options: TlsOptions, lookup: LookupFunction | undefined, sessions: TlsSessionCache, onread?: net.OnReadOpts): tls.TLSSocket {
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1')
  const connectOptions: tls.ConnectionOptions = {
    host,
    port: Number(url.port || 443),
    ALPNProtocols: ['http/1.1'],
    rejectUnauthorized: options.insecure !== true,
  }
  if (net.isIP(host) === 0) connectOptions.servername = host
  connectOptions.secureContext = sessions.secureContext(options)
  if (lookup !== undefined) connectOptions.lookup = lookup as net.LookupFunction
  if (onread !== undefined) (connectOptions as tls.ConnectionOptions & { onread?: net.OnReadOpts }).onread = onread
  const cached = sessions.get(url.origin)
  if (cached !== undefined) connectOptions.session = cached
  const socket = tls.connect(connectOptions)
  socket.setNoDelay(true)
  socket.on('session', (session: Buffer) => sessions.set(url.origin, session))
  return socket
}
