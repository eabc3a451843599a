/**
 * The dashboard's token: a dashboard that listens beyond loopback (`--dashboard-host 0.0.0.0`)
 * can be reached by anyone on the network, and by any web page through DNS rebinding, so every
 * request must show the token the runner printed in the URL. It is accepted as `?token=` (the
 * printed URL), `Authorization: Bearer` (curl, a Prometheus scrape) or the cookie the page gets
 * when it is opened with the token (its event stream, assets and Stop then carry it).
 */
import { randomBytes, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage } from 'node:http'

export class AccessToken {
  readonly token: string
  readonly #bytes: Buffer
  readonly #cookieName: string

  /** `port` names the cookie: two dashboards on one host keep their own. */
  constructor(port: number, token = randomBytes(18).toString('base64url')) {
    this.token = token
    this.#bytes = Buffer.from(token)
    this.#cookieName = `loads_token_${port}`
  }

  /** Whether `req` shows the token (query, bearer header or cookie). */
  allows(req: IncomingMessage, url: URL): boolean {
    const fromQuery = url.searchParams.get('token')
    if (fromQuery !== null && this.#equals(fromQuery)) return true
    const auth = req.headers.authorization
    if (auth !== undefined && /^Bearer /i.test(auth) && this.#equals(auth.slice(7).trim())) return true
    const cookies = req.headers.cookie ?? ''
    for (const part of cookies.split(';')) {
      const eq = part.indexOf('=')
      if (eq > 0 && part.slice(0, eq).trim() === this.#cookieName && this.#equals(part.slice(eq + 1).trim())) return true
    }
    return false
  }

  /** The cookie that lets the page's own requests (assets, events, Stop) through. */
  cookie(): string {
    return `${this.#cookieName}=${this.token}; HttpOnly; SameSite=Strict; Path=/`
  }

  #equals(given: string): boolean {
    const b = Buffer.from(given)
    return b.length === this.#bytes.length && timingSafeEqual(b, this.#bytes)
  }
}
