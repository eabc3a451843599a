import type { SessionCookies } from '../http/cookie-jar.js'
import type { Response } from '../http/response.js'
import { inputValue, metaContent } from '../util/html-fields.js'
import { AssertionError } from './assertion-error.js'

/**
 * Correlation helpers: take from a live response the value a later request must send back (a
 * CSRF token, an id the server made, where a redirect points), as `loads har` writes them into
 * generated tests. Each returns the value as a string, or throws an AssertionError naming the
 * request and what was missing, so the run counts as a failure with a reason rather than sending
 * a stale value the server would refuse. LoadRunner calls this correlation; k6 and Locust leave it
 * to hand-written code.
 */
export const extract = {
  /** The value of the `<input name="name">` in an HTML response (a form's hidden CSRF field). */
  formField(res: Response, name: string): string {
    return found(inputValue(res.text, name), res, `no <input name="${name}">`)
  },

  /** The content of the `<meta name="name">` in an HTML response (`csrf-token` read by script). */
  meta(res: Response, name: string): string {
    return found(metaContent(res.text, name), res, `no <meta name="${name}">`)
  },

  /**
   * The value of cookie `name` in the user's jar (a double-submit token the server set, which
   * the page's script echoes in a header). The last one stored wins when several paths hold it.
   */
  cookie(cookies: SessionCookies, name: string): string {
    const matches = cookies.list().filter((cookie) => cookie.name === name)
    const value = matches.at(-1)?.value
    if (value === undefined) throw new AssertionError(`correlation: no cookie ${JSON.stringify(name)} in the jar`)
    return value
  },

  /** A value of a JSON response at `path` (keys and array indexes), as a string. */
  json(res: Response, path: ReadonlyArray<string | number>): string {
    let value: unknown
    try {
      value = res.json()
    } catch {
      throw failure(res, 'a body that is not JSON')
    }
    for (const step of path) {
      value = typeof value === 'object' && value !== null ? (value as Record<string | number, unknown>)[step] : undefined
    }
    if (typeof value === 'string') return value
    if (typeof value === 'number' || typeof value === 'boolean') return String(value)
    throw failure(res, `nothing at ${JSON.stringify(path)} in its JSON`)
  },

  /** Where a redirect points, as an absolute URL (resolved against the response's URL). */
  location(res: Response): string {
    const location = found(res.headers['location'], res, 'no Location header')
    return new URL(location, res.url).href
  },

  /** Segment `index` of the Location's path (`/items/42` → index 2 is `42`): an id the server made. */
  locationSegment(res: Response, index: number): string {
    const location = extract.location(res)
    return found(new URL(location).pathname.split('/')[index], res, `no path segment ${index} in its Location`)
  },

  /** The text between `left` and `right` in the body: the first occurrence. */
  between(res: Response, left: string, right: string): string {
    const text = res.text
    const start = text.indexOf(left)
    const end = start === -1 ? -1 : text.indexOf(right, start + left.length)
    if (end === -1) throw failure(res, `no text between ${JSON.stringify(left)} and ${JSON.stringify(right)}`)
    return text.slice(start + left.length, end)
  },
}

function found(value: string | undefined, res: Response, missing: string): string {
  if (value === undefined) throw failure(res, missing)
  return value
}

function failure(res: Response, missing: string): AssertionError {
  const { method, url } = res.request
  return new AssertionError(`correlation: ${method} ${url} answered ${res.status} with ${missing}`)
}
