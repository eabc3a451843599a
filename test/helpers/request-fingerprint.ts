import type { ReceivedRequest } from './http-servers.js'

/**
 * What two clients must agree on for "the same request": method, path and query, body bytes,
 * and the headers, as one comparable string. Differences that are the client's own business are
 * folded away, each for a stated reason:
 * - `user-agent` when it is the client's default (curl/x.y vs loads-runner/x.y), not the command's;
 * - `connection`: undici says keep-alive, curl leaves it implicit (HTTP/1.1 default, same meaning);
 * - `expect: 100-continue`, which curl adds to every -T upload: a handshake before the same body
 *   (the server answers 100 and curl sends it); loads never asks for it;
 * - `accept-encoding`: compared as the set of gzip/deflate/br asked for (curl adds zstd, which
 *   Node.js 20 cannot decode, and orders them its own way);
 * - a multipart boundary is random in curl: it becomes BOUNDARY, and content-length is checked
 *   against the body received, then compared on the normalised body.
 */
export function fingerprint(request: ReceivedRequest, ignore: readonly string[] = []): string {
  const headers: Record<string, string> = {}
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined) continue
    headers[name] = Array.isArray(value) ? value.join(', ') : value
  }
  let body = request.body.toString('latin1')
  const boundary = /^multipart\/[\w-]+;.*boundary=("?)([^";]+)\1/i.exec(headers['content-type'] ?? '')?.[2]
  if (boundary !== undefined) {
    if (Number(headers['content-length']) !== request.body.length) throw new Error(`content-length ${headers['content-length']} but ${request.body.length} bytes received`)
    body = body.split(boundary).join('BOUNDARY')
    headers['content-type'] = headers['content-type']!.split(boundary).join('BOUNDARY')
    headers['content-length'] = String(body.length)
  }
  if (/^(?:curl|loads-runner)\//.test(headers['user-agent'] ?? '')) delete headers['user-agent']
  delete headers['connection']
  if (headers['expect']?.toLowerCase() === '100-continue') delete headers['expect']
  for (const name of ignore) delete headers[name]
  if (headers['accept-encoding'] !== undefined) {
    headers['accept-encoding'] = headers['accept-encoding']
      .split(',')
      .map((coding) => coding.trim().toLowerCase())
      .filter((coding) => ['gzip', 'deflate', 'br'].includes(coding))
      .sort()
      .join(', ')
  }
  const lines = Object.keys(headers)
    .sort()
    .map((name) => `${name}: ${headers[name]}`)
  return [`${request.method} ${request.url}`, ...lines, '', body].join('\n')
}

/**
 * Each fingerprint with how many times it occurs, sorted: compare multisets with toEqual.
 * `ignore` leaves headers out (a user's later runs send the cookies its earlier runs got).
 */
export function tally(requests: readonly ReceivedRequest[], times = 1, ignore: readonly string[] = []): [string, number][] {
  const counts = new Map<string, number>()
  for (const request of requests) {
    const key = fingerprint(request, ignore)
    counts.set(key, (counts.get(key) ?? 0) + times)
  }
  return [...counts.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
}
