import { Cookie, CookieJar } from 'tough-cookie'

/** A cookie as `SessionCookies.list()` shows it. */
export interface CookieInfo {
  name: string
  value: string
  /** The domain it is sent to (the host itself for a host-only cookie). */
  domain: string
  path: string
  secure: boolean
  httpOnly: boolean
  /** null for a session cookie. */
  expires: Date | null
}

/**
 * One virtual user's cookies (RFC 6265, via tough-cookie's in-memory jar used synchronously).
 * The jar is created only when a response first carries set-cookie (or `set` is called), so a
 * user of a cookie-less service pays one null check per request.
 */
export class SessionCookies {
  #jar: CookieJar | null = null

  /** True while no cookie was ever stored: the request path skips the jar entirely. */
  get unused(): boolean {
    return this.#jar === null
  }

  /** The Cookie header value for `url` ('' when none applies). */
  get(url: string): string {
    return this.#jar === null ? '' : this.#jar.getCookieStringSync(url)
  }

  /** Stores a cookie as if `url` had answered with `Set-Cookie: cookieString`. */
  set(cookieString: string, url: string): void {
    this.#jar ??= new CookieJar()
    this.#jar.setCookieSync(cookieString, url)
  }

  /** Forgets every cookie. */
  clear(): void {
    this.#jar?.removeAllCookiesSync()
  }

  /** Every stored cookie, for debugging and assertions. */
  list(): CookieInfo[] {
    const serialized = this.#jar?.serializeSync()
    if (serialized === undefined) return []
    const cookies: CookieInfo[] = []
    for (const json of serialized.cookies) {
      const cookie = Cookie.fromJSON(json)
      if (cookie === undefined) continue
      cookies.push({
        name: cookie.key,
        value: cookie.value,
        domain: cookie.domain ?? '',
        path: cookie.path ?? '/',
        secure: cookie.secure,
        httpOnly: cookie.httpOnly,
        expires: cookie.expires instanceof Date ? cookie.expires : null,
      })
    }
    return cookies
  }

  /**
   * @internal Stores the set-cookie values of a response from `url`. A malformed or refused
   * cookie is ignored, as a browser would; it never fails the request.
   */
  storeFromResponse(setCookies: readonly string[], url: string): void {
    this.#jar ??= new CookieJar()
    for (const value of setCookies) this.#jar.setCookieSync(value, url, { ignoreError: true })
  }
}
