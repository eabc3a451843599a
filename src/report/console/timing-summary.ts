/**
 * The console's second per-URL table: what the first one leaves out for width — min, mean, p99.9
 * and max latency, time to first byte, connections opened and their mean connect time (TCP), the
 * mean TLS handshake apart (a column only when some endpoint did one; `–` for a plain-HTTP
 * endpoint: no handshake is not 0 ms), bytes each way, and in an open-model run the service time
 * beside the latency counted from intended starts.
 */
import type { EndpointSummary } from '../../stats/types.js'
import { terminalSafe } from './terminal-text.js'

export interface TimingTableTools {
  bold(text: string): string
  formatMs(ms: number): string
  formatBytes(n: number): string
  table(header: string[], rows: string[][], right: boolean[]): string[]
  maxNameWidth: number
}

export function formatTimingTable(endpoints: EndpointSummary[], t: TimingTableTools): string[] {
  if (endpoints.length === 0) return []
  const open = endpoints.some((e) => e.service !== undefined)
  const tls = endpoints.some((e) => e.tlsHandshakes !== undefined)
  const ms = (v: number, count: number): string => (count > 0 ? t.formatMs(v) : '–')
  const rows = endpoints.map((e) => {
    const name = terminalSafe(e.name.length > t.maxNameWidth ? `${e.name.slice(0, t.maxNameWidth - 1)}…` : e.name).replaceAll('\n', '\\n')
    const l = e.latency
    const f = e.ttfb
    const row = [
      e.method,
      name,
      ms(l.min, l.count),
      ms(l.mean, l.count),
      ms(l.p999, l.count),
      ms(l.max, l.count),
      ms(f.p50, f.count),
      ms(f.p95, f.count),
      String(e.connects),
      e.connects > 0 ? t.formatMs(e.connectMeanMs) : '–',
      ...(tls ? [e.tlsMeanMs !== undefined ? t.formatMs(e.tlsMeanMs) : '–'] : []),
      t.formatBytes(e.bytesIn),
      t.formatBytes(e.bytesOut),
    ]
    if (open) row.push(e.service !== undefined ? ms(e.service.p50, e.service.count) : '–', e.service !== undefined ? ms(e.service.p95, e.service.count) : '–')
    return row
  })
  const header = ['METHOD', 'NAME', 'MIN ms', 'MEAN ms', 'P99.9 ms', 'MAX ms', 'TTFB P50', 'TTFB P95', 'CONNECTS', 'CONNECT ms', ...(tls ? ['TLS ms'] : []), 'BYTES IN', 'BYTES OUT', ...(open ? ['SERVICE P50', 'SERVICE P95'] : [])]
  const right = header.map((_, i) => i >= 2)
  const title = tls
    ? 'Per URL, continued (CONNECT ms: TCP, TLS ms: the handshake after it, means of the hits that opened a connection):'
    : 'Per URL, continued (CONNECT ms: TCP, the mean of the hits that opened a connection):'
  return [t.bold(title), ...t.table(header, rows, right)]
}
