import { namedGrpcStatuses } from '../../stats/grpc-status-names.js'
import type { EndpointSummary } from '../../stats/types.js'

/**
 * The gRPC part of the summary: per method, calls, messages and bytes each way, and the calls'
 * gRPC statuses by name.
 */
export function formatGrpc(endpoints: EndpointSummary[], bold: (t: string) => string, formatBytes: (n: number) => string): string[] {
  const grpc = endpoints.filter((e) => e.method === 'GRPC')
  if (grpc.length === 0) return []
  const rows = grpc.map((e) => {
    const statuses = Object.entries(namedGrpcStatuses(e.statuses))
      .filter(([, n]) => n > 0)
      .map(([name, n]) => `${name}×${n}`)
      .join(' ')
    return [
      e.name,
      String(e.hits),
      String(e.ws?.messagesIn ?? 0),
      String(e.ws?.messagesOut ?? 0),
      formatBytes(e.bytesIn),
      formatBytes(e.bytesOut),
      statuses || '-',
    ]
  })
  const header = ['METHOD', 'CALLS', 'MSGS IN', 'MSGS OUT', 'BYTES IN', 'BYTES OUT', 'STATUS']
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: string[]): string =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : i === cells.length - 1 ? c : c.padStart(widths[i]!))).join('  ').trimEnd()
  return [bold('gRPC:'), `  ${bold(line(header))}`, ...rows.map((r) => `  ${line(r)}`)]
}
