/**
 * `--resolve host:port:addr`, as curl: pins where connections to `host:port` go, without changing
 * the URL, so the Host header, cookies and TLS SNI / certificate checks still use `host`.
 */
import type { LookupAddress, LookupOptions } from 'node:dns'
import { isIP } from 'node:net'
import { UsageError } from '../errors.js'

/** `host:port` (host lower-cased) → IP address. */
export type ResolveMap = Readonly<Record<string, string>>

/** Parses `host:port:addr` entries (IPv6 addresses may be bracketed: `[::1]`). */
export function parseResolve(entries: readonly string[]): Record<string, string> {
  const map: Record<string, string> = {}
  for (const entry of entries) {
    const m = /^([^:\s]+):(\d{1,5}):(.+)$/.exec(entry.trim())
    const address = m?.[3]?.replace(/^\[(.*)\]$/, '$1')
    if (!m || address === undefined || isIP(address) === 0 || Number(m[2]) > 65535) {
      throw new UsageError(`--resolve expects host:port:address with an IP address, as curl: got '${entry}'`, 'e.g. --resolve api.example.com:443:127.0.0.1')
    }
    map[`${m[1]!.toLowerCase()}:${Number(m[2])}`] = address
  }
  return map
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void
export type LookupFunction = (hostname: string, options: LookupOptions, callback: LookupCallback) => void

/**
 * A `lookup` for net/tls.connect that answers `hostname` with the pinned address of
 * `hostname:port`, or undefined when nothing is pinned for that origin (normal DNS applies).
 */
export function pinnedLookup(map: ResolveMap | undefined, hostname: string, port: number): LookupFunction | undefined {
  const address = map?.[`${hostname.toLowerCase()}:${port}`]
  if (address === undefined) return undefined
  const family = isIP(address)
  return (_hostname, options, callback) => {
    // net.connect asks for every address (`all`) when it may race IPv4 and IPv6.
    if (options.all === true) callback(null, [{ address, family }])
    else callback(null, address, family)
  }
}
