import { BODY_LIMIT_HINT } from './body-limit.js'
import { NetworkError, type NetworkErrorKind } from './errors.js'

/** Node's TLS verification failures (`X509_V_ERR_*` names) that have no `ERR_TLS_` prefix. */
const TLS_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_REVOKED',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'HOSTNAME_MISMATCH',
  'EPROTO',
])

/** A certificate valid for names other than the host asked for (Node's code, and ours: origin-connection.ts). */
const NAME_MISMATCH_CODES = new Set(['ERR_TLS_CERT_ALTNAME_INVALID', 'ERR_TLS_HOSTNAME_MISMATCH', 'HOSTNAME_MISMATCH'])

/** Maps the error undici or Node gave us to the kind recorded with the hit. */
export function networkErrorKind(err: unknown): NetworkErrorKind {
  const code = errorCode(err)
  switch (code) {
    case 'ECONNREFUSED':
      return 'ECONNREFUSED'
    // undici reports "other side closed" as UND_ERR_SOCKET: the peer hung up mid-exchange.
    case 'ECONNRESET':
    case 'EPIPE':
    case 'UND_ERR_SOCKET':
      return 'ECONNRESET'
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NONAME':
    case 'EAI_NODATA':
    case 'EAI_FAIL':
      return 'ENOTFOUND'
    case 'ETIMEDOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
      return 'TIMEOUT'
    case 'UND_ERR_ABORTED':
    case 'UND_ERR_ABORT':
    case 'ABORT_ERR':
      return 'ABORTED'
    case 'UND_ERR_RES_EXCEEDED_MAX_SIZE':
      return 'BODY_TOO_LARGE'
    case 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH':
    case 'UND_ERR_HEADERS_OVERFLOW':
    case 'UND_ERR_INFO':
      return 'PROTOCOL'
  }
  if (code.startsWith('HPE_')) return 'PROTOCOL'
  if (code.startsWith('ERR_TLS_') || code.startsWith('ERR_SSL_') || TLS_CODES.has(code)) return 'TLS'
  return code
}

/**
 * Builds the NetworkError for a failed request, with a message that says what happened and to
 * which host, and a hint when we know the usual cause.
 *
 * @param timeoutMs the request's timeout, quoted in the TIMEOUT message.
 */
export function toNetworkError(
  err: unknown,
  kind: NetworkErrorKind,
  method: string,
  url: string,
  host: string,
  timeoutMs: number,
): NetworkError {
  const detail = err instanceof Error ? err.message : String(err)
  const cause = { cause: err }
  switch (kind) {
    case 'ECONNREFUSED': {
      // The address actually dialled, when it is not the host's own spelling: what --resolve
      // pinned it to, or what DNS answered — the place to look.
      const at = dialled(err)
      const shown = at !== undefined && at !== host && !host.startsWith(`${at.replace(/:\d+$/, '')}:`) ? `${host} (at ${at})` : host
      return new NetworkError(kind, method, url, `connection refused by ${shown}`, {
        ...cause,
        hint: at !== undefined && shown !== host ? `is the server running and listening on ${at}? (--resolve pins a host:port to an address)` : 'is the server running and listening on that port?',
      })
    }
    case 'ECONNRESET':
      return new NetworkError(kind, method, url, `connection closed by ${host} before the response completed`, cause)
    case 'ENOTFOUND':
      return new NetworkError(kind, method, url, `cannot resolve host name ${host.replace(/:\d+$/, '')}`, {
        ...cause,
        hint: 'check the spelling of the host and your DNS',
      })
    case 'TIMEOUT': {
      if (err instanceof Error && 'limitMs' in err) {
        return new NetworkError(kind, method, url, err.message, { ...cause, hint: 'raise the timeout if the server is expected to be this slow (--timeout, --headers-timeout, --body-timeout)' })
      }
      const code = errorCode(err)
      const what =
        code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'ETIMEDOUT'
          ? 'connecting to'
          : code === 'UND_ERR_BODY_TIMEOUT'
            ? 'the response body from'
            : 'the response headers from'
      return new NetworkError(kind, method, url, `timed out after ${timeoutMs} ms waiting for ${what} ${host}`, {
        ...cause,
        hint: 'raise the timeout option if the server is expected to be this slow',
      })
    }
    case 'ABORTED':
      return new NetworkError(kind, method, url, `request to ${host} aborted`, cause)
    case 'TLS':
      return new NetworkError(kind, method, url, `TLS handshake with ${host} failed: ${detail}`, {
        ...cause,
        // A certificate for other names: a CA would not help (it is trusted already, or the
        // next failure would say so); the name asked for is what to change.
        hint: NAME_MISMATCH_CODES.has(errorCode(err))
          ? 'the certificate is for other names: request the host by one of them (--resolve NAME:PORT:ADDRESS still connects to this address), or pass insecure: true'
          : 'pass ca (the server certificate or its CA) or insecure: true for a self-signed certificate',
      })
    case 'PROTOCOL':
      return new NetworkError(kind, method, url, `invalid HTTP response from ${host}: ${detail}`, cause)
    case 'BODY_TOO_LARGE':
      return new NetworkError(kind, method, url, detail, { ...cause, hint: BODY_LIMIT_HINT })
    default:
      return new NetworkError(kind, method, url, `${kind} talking to ${host}: ${detail}`, cause)
  }
}

function errorCode(err: unknown): string {
  if (typeof err === 'object' && err !== null) {
    const code = (err as { code?: unknown }).code
    if (typeof code === 'string') return code
    const cause = (err as { cause?: unknown }).cause
    if (cause !== undefined && cause !== err) return errorCode(cause)
    const name = (err as { name?: unknown }).name
    if (name === 'AbortError') return 'ABORT_ERR'
    // undici's HTTPParserError has no code when llhttp gave none (e.g. not HTTP at all).
    if (name === 'HTTPParserError') return 'HPE_INVALID'
  }
  return 'UNKNOWN'
}

/** `address:port` a connect error says it dialled (Node sets both on the error, or its cause). */
function dialled(err: unknown): string | undefined {
  for (let e = err as { address?: unknown; port?: unknown; cause?: unknown } | undefined, depth = 0; e && typeof e === 'object' && depth < 4; e = e.cause as typeof e, depth++) {
    if (typeof e.address === 'string' && typeof e.port === 'number') return e.address.includes(':') ? `[${e.address}]:${e.port}` : `${e.address}:${e.port}`
  }
  return undefined
}
