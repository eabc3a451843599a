import { field, stringField } from './har-entries.js'

/**
 * Which browser's words say an entry was answered from its cache (never sent to the server),
 * so a replay leaves it out:
 * - Chrome DevTools: `_fromCache: "memory" | "disk"`;
 * - Safari Web Inspector: `_fetchType: "Memory Cache" | "Disk Cache"` (else "Network Load");
 * - Firefox: `cache.afterRequest` present (its HAR builder fills `cache` only for cache hits,
 *   `null` when the cache entry is gone); other tools may write `afterRequest: null` for every
 *   entry, so null counts only in a file whose `log.creator.name` is Firefox;
 * - Playwright (and Chrome for service-worker and memory hits): a response with a status but
 *   `_transferSize: 0` — no byte crossed the network. A revalidated 304 has headers, so > 0.
 * Returns the browser's word for it, or undefined when the entry went to the network.
 */
export function cacheHit(entry: unknown, creator: string | undefined): string | undefined {
  const fromCache = stringField(entry, '_fromCache')
  if (fromCache !== undefined && fromCache !== '') return `Chrome: ${fromCache} cache`
  const fetchType = stringField(entry, '_fetchType')
  if (fetchType !== undefined && /cache/i.test(fetchType)) return `Safari: ${fetchType}`
  const cache = field(entry, 'cache')
  const after = field(cache, 'afterRequest')
  if ((typeof after === 'object' && after !== null) || (after === null && /firefox/i.test(creator ?? ''))) return 'Firefox: cache'
  const response = field(entry, 'response')
  const status = field(response, 'status')
  if (field(response, '_transferSize') === 0 && typeof status === 'number' && status > 0) return 'no bytes transferred'
  return undefined
}
