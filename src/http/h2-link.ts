import type { TLSSocket } from 'node:tls'
import { connectH2, type H2ConnectOptions, type H2Session } from './h2-connect.js'

/**
 * Called once a link can carry streams: with the session; with `session` null and no error when
 * the server chose HTTP/1.1 (`http1Socket` is that TLS socket, handed to one caller only); or with
 * the connect error. `connectUs` (TCP) and `tlsUs` (the handshake after it) go to the caller whose
 * request opened the connection, 0 to others.
 */
export type LinkReady = (err: Error | null, session: H2Session | null, connectUs: number, http1Socket: TLSSocket | undefined, tlsUs: number) => void

/**
 * One HTTP/2 connection to an origin and the users riding it (`--h2-streams N`: up to N users of
 * a worker share it, each with its own streams). It connects on first use and again after the
 * server closed it or sent GOAWAY (streams already running finish on the old session).
 */
export class H2Link {
  /** Users holding this link (see H2Links.acquire / release). */
  users = 0
  /** The server chose HTTP/1.1 over TLS: every later request of the origin goes over HTTP/1.1. */
  http1 = false
  readonly #options: H2ConnectOptions
  #session: H2Session | null = null
  #connecting = false
  readonly #waiting: LinkReady[] = []

  constructor(options: H2ConnectOptions) {
    this.#options = options
  }

  /** The session, when one is open and accepting streams; null otherwise (use `whenReady`). */
  ready(): H2Session | null {
    return this.#session
  }

  /** Calls back once the link can carry a stream (or cannot). Connects when nothing is open. */
  whenReady(callback: LinkReady): void {
    if (this.#session !== null) {
      callback(null, this.#session, 0, undefined, 0)
      return
    }
    if (this.http1) {
      callback(null, null, 0, undefined, 0)
      return
    }
    this.#waiting.push(callback)
    if (!this.#connecting) this.#connect()
  }

  /** Closes the session once its streams are done (the link reconnects if used again). */
  close(): void {
    const session = this.#session
    this.#session = null
    session?.close()
  }

  /** Closes the session now; its streams fail. */
  destroy(): void {
    const session = this.#session
    this.#session = null
    session?.destroy()
  }

  #connect(): void {
    this.#connecting = true
    connectH2(this.#options, (err, result, connectUs, tlsUs) => {
      this.#connecting = false
      const waiting = this.#waiting.splice(0)
      if (err !== null || result === null) {
        for (let i = 0; i < waiting.length; i++) waiting[i]!(err ?? new Error('connect failed'), null, i === 0 ? connectUs : 0, undefined, i === 0 ? tlsUs : 0)
        return
      }
      if (result.http1Socket !== undefined) {
        this.http1 = true
        for (let i = 0; i < waiting.length; i++) waiting[i]!(null, null, i === 0 ? connectUs : 0, i === 0 ? result.http1Socket : undefined, i === 0 ? tlsUs : 0)
        if (waiting.length === 0) result.http1Socket.destroy()
        return
      }
      const session = result.session
      this.#session = session
      const forget = (): void => {
        if (this.#session === session) this.#session = null
      }
      // Failures reach the streams; the session's own 'error' must not crash the worker.
      session.on('error', forget)
      session.on('goaway', forget)
      session.on('close', forget)
      for (let i = 0; i < waiting.length; i++) waiting[i]!(null, session, i === 0 ? connectUs : 0, undefined, i === 0 ? tlsUs : 0)
    })
  }
}

/**
 * A worker's HTTP/2 links by origin: with `streamsPerLink` N, a user asking for a link gets one
 * that fewer than N users hold, or a new one. N = 1 gives each user a connection of its own.
 */
export class H2Links {
  readonly #byOrigin = new Map<string, H2Link[]>()
  readonly #usersPerLink: number

  /** @param usersPerLink users sharing one connection (`--h2-streams`), ≥ 1. */
  constructor(usersPerLink: number) {
    this.#usersPerLink = Math.max(1, Math.floor(usersPerLink))
  }

  /** A link to `options.url`'s origin for one more user. */
  acquire(options: H2ConnectOptions): H2Link {
    const origin = options.url.origin
    let links = this.#byOrigin.get(origin)
    if (links === undefined) {
      links = []
      this.#byOrigin.set(origin, links)
    }
    let link = links.find((l) => l.users < this.#usersPerLink)
    if (link === undefined) {
      link = new H2Link(options)
      links.push(link)
    }
    link.users++
    return link
  }

  /** The user is done with `link`; the last user out closes its connection. */
  release(link: H2Link): void {
    link.users--
    if (link.users > 0) return
    link.close()
    for (const [origin, links] of this.#byOrigin) {
      const i = links.indexOf(link)
      if (i === -1) continue
      links.splice(i, 1)
      if (links.length === 0) this.#byOrigin.delete(origin)
    }
  }
}
