import { LoadsError } from './errors.js'

/** A resolved absolute http(s) URL, split the way the request path needs it. */
export interface Target {
  /** `http://127.0.0.1:8080`: the key of the connection used. */
  readonly origin: string
  /** Path and query sent on the request line (`/items?page=2`). */
  readonly path: string
  /** Path without query: the default stats name. */
  readonly pathname: string
  /** Absolute URL without fragment. */
  readonly href: string
  /** `host[:port]`, for error messages. */
  readonly host: string
  /** `Basic …` from `user:pass@` in the URL, or null. */
  readonly authorization: string | null
}

/** Parses `url` (absolute, or relative to `base`) into a Target. Throws LoadsError when it can't. */
export function resolveTarget(url: string, base: string | undefined): Target {
  let parsed: URL
  if (isAbsolute(url)) {
    parsed = parseOrThrow(url, undefined)
  } else {
    if (base === undefined || base === '') {
      throw new LoadsError(
        'LOADS_ERR_RELATIVE_URL',
        `relative URL '${url}' needs a base: set static serverUrl on the TestCase or pass --server-url`,
      )
    }
    parsed = parseOrThrow(url, base)
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new LoadsError('LOADS_ERR_INVALID_URL', `unsupported URL scheme '${parsed.protocol}' in '${url}'`, {
      hint: 'only http:// and https:// URLs can be requested',
    })
  }
  const path = parsed.pathname + parsed.search
  const authorization =
    parsed.username === '' && parsed.password === ''
      ? null
      : basicAuthorization(decodeURIComponent(parsed.username), decodeURIComponent(parsed.password))
  return {
    origin: parsed.origin,
    path,
    pathname: parsed.pathname,
    href: parsed.origin + path,
    host: parsed.host,
    authorization,
  }
}

/** The value of an Authorization header for HTTP basic auth. */
export function basicAuthorization(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`
}

/**
 * Per-session memo of resolved URLs: load tests request the same few URLs millions of times, and
 * parsing with WHATWG `URL` costs about a microsecond. Bounded; cleared when full or when the
 * base changes.
 */
export class TargetCache {
  static readonly MAX_ENTRIES = 1024
  readonly #targets = new Map<string, Target>()
  #base: string | undefined

  constructor(base: string | undefined) {
    this.#base = base
  }

  get base(): string | undefined {
    return this.#base
  }

  set base(base: string | undefined) {
    if (base !== this.#base) this.#targets.clear()
    this.#base = base
  }

  resolve(url: string): Target {
    let target = this.#targets.get(url)
    if (target === undefined) {
      target = resolveTarget(url, this.#base)
      if (this.#targets.size >= TargetCache.MAX_ENTRIES) this.#targets.clear()
      this.#targets.set(url, target)
    }
    return target
  }
}

function isAbsolute(url: string): boolean {
  return /^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(url)
}

function parseOrThrow(url: string, base: string | undefined): URL {
  try {
    return new URL(url, base)
  } catch (err) {
    const where = base === undefined ? `'${url}'` : `'${url}' against base '${base}'`
    throw new LoadsError('LOADS_ERR_INVALID_URL', `invalid URL ${where}`, { cause: err })
  }
}
