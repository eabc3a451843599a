import type { EndpointSummary } from '../../stats/types.js'
import { terminalSafe } from './terminal-text.js'

/**
 * The WebSocket part of the summary: per URL name, connections opened (handshakes answered 101)
 * and failed, messages and bytes each way, and how connections closed.
 */
export function formatWebSockets(endpoints: EndpointSummary[], bold: (t: string) => string, formatBytes: (n: number) => string): string[] {
  const ws = endpoints.filter((e) => e.method === 'WS')
  if (ws.length === 0) return []
  const rows = ws.map((e) => {
    const opened = e.statuses['101'] ?? 0
    const closes = Object.entries(e.ws?.closeCodes ?? {})
      .sort(([a], [b]) => Number(a) - Number(b))
      .map(([code, n]) => `${code}×${n}`)
      .join(' ')
    return [
      terminalSafe(e.name).replaceAll('\n', '\\n'),
      String(opened),
      String(e.hits - opened),
      String(e.ws?.messagesIn ?? 0),
      String(e.ws?.messagesOut ?? 0),
      formatBytes(e.bytesIn),
      formatBytes(e.bytesOut),
      closes || '-',
    ]
  })
  const header = ['NAME', 'OPENED', 'FAILED', 'MSGS IN', 'MSGS OUT', 'BYTES IN', 'BYTES OUT', 'CLOSE CODES']
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: string[]): string =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : i === cells.length - 1 ? c : c.padStart(widths[i]!))).join('  ').trimEnd()
  return [bold('WebSockets:'), `  ${bold(line(header))}`, ...rows.map((r) => `  ${line(r)}`)]
}
