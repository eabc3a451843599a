/** The HTTP layer's public surface, for `src/index.ts` and the engine to re-export from. */
export { Session, DEFAULT_HEADERS, type SessionOptions } from './session.js'
export { Response, type SentRequest } from './response.js'
export type { RequestOptions, Fields, FieldValue } from './request-options.js'
export { SessionCookies, type CookieInfo } from './cookie-jar.js'
export { LoadsError, NetworkError, HTTPError, TooManyRedirectsError, type NetworkErrorKind } from './errors.js'
export type { TlsOptions, ConnectionOptions } from './origin-connection.js'
export type { ResolveMap } from './resolve-map.js'
export { MAX_REDIRECTS, PRECISE_TIMEOUT_BELOW_MS } from './exchange.js'
