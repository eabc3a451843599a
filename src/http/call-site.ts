/**
 * Where the test made a request, so an error that surfaces later — a refused connection, a
 * timeout, a reset, all raised from socket callbacks with no user frame on the stack — still
 * points at the test's file:line.
 *
 * Capturing a stack costs a few microseconds whatever the depth (measured in
 * bench/micro-call-site.mjs: 3–8 µs on a loaded machine, ~3.6% of a request to a local server),
 * too much for every request. So the call site is captured once per (test, method, name) in each
 * worker — the first request of `GET /items/{id}` by `Shop.test_browse` — and reused: map
 * look-ups per request. Two tests requesting one name each show their own line; a name one test
 * requests from several lines points at the line that requested it first. V8 formats the frames
 * only when a failure reads them.
 */

/** Frames kept above the session's method: the test's line, a helper or two, the test method. */
export const CALL_SITE_FRAMES = 6

/** Distinct (test, method, name) call sites kept per worker; later ones get none. */
export const MAX_CALL_SITES = 2000

/** A captured call site: its `stack` is formatted on first read. */
export interface CallSite {
  readonly stack?: string
}

/** By test (its label; '' outside a test run), then method, then name. */
const sites = new Map<string, Map<string, Map<string, CallSite>>>()
let count = 0

/**
 * The call site of the first request of (`method`, `name`) by the test `test` (the label of the
 * test the user runs), captured now if this is it: the frames of whoever called `above` (a
 * session method). Undefined past MAX_CALL_SITES.
 */
export function callSiteFor(method: string, name: string, above: (...args: never[]) => unknown, test = ''): CallSite | undefined {
  let byMethod = sites.get(test)
  if (byMethod === undefined) sites.set(test, (byMethod = new Map()))
  let byName = byMethod.get(method)
  if (byName === undefined) byMethod.set(method, (byName = new Map()))
  const known = byName.get(name)
  if (known !== undefined || count >= MAX_CALL_SITES) return known
  const site = captureCallSite(above)
  byName.set(name, site)
  count++
  return site
}

/** The frames of whoever called `above`, captured now (formatted when `stack` is first read). */
export function captureCallSite(above: (...args: never[]) => unknown): CallSite {
  const site: { stack?: string } = {}
  const limit = Error.stackTraceLimit
  Error.stackTraceLimit = CALL_SITE_FRAMES
  Error.captureStackTrace(site, above)
  Error.stackTraceLimit = limit
  return site
}

/**
 * Gives `error` the frames of the call site instead of its own (socket callbacks and timers,
 * none of them the user's), keeping its `Name: message` line.
 */
export function withCallSite(error: Error, site: CallSite | undefined): Error {
  if (site === undefined) return error
  const own = error.stack ?? `${error.name}: ${error.message}`
  const frames = (site.stack ?? '').split('\n').filter((l) => /^\s+at /.test(l))
  if (frames.length === 0) return error
  const at = own.search(/\n\s+at /)
  const head = at === -1 ? own : own.slice(0, at)
  try {
    Object.defineProperty(error, 'stack', { value: `${head}\n${frames.join('\n')}`, writable: true, configurable: true })
  } catch {
    // A frozen error keeps its own stack.
  }
  return error
}
