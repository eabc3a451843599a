/**
 * The page's "Per URL" table: every figure the run measured per (method, name) — latency from
 * min to max with its mean and p99.9, time to first byte, connections and the time they took (TCP,
 * and the TLS handshake apart),
 * bytes each way, statuses (gRPC status codes by name). Sortable and filterable (data-table.ts).
 */
import type { EndpointSummary } from '../../src/stats/types.js'
import { namedGrpcStatuses } from '../../src/stats/grpc-status-names.js'
import { DataTable, type Column } from './data-table.js'
import * as f from './format.js'

const ms = (pick: (e: EndpointSummary) => number | null | undefined, label: string, help?: string): Column<EndpointSummary> => ({
  label,
  num: true,
  cell: (e) => f.ms(pick(e)),
  sortBy: (e) => pick(e) ?? -1,
  ...(help !== undefined ? { help } : {}),
})

const COLUMNS: Column<EndpointSummary>[] = [
  { label: 'Method', kind: 'method', cell: (e) => e.method },
  { label: 'Name', kind: 'name', cell: (e) => e.name, title: (e) => e.name, sortBy: (e) => `${e.name} ${e.method}` },
  { label: 'Hits', num: true, cell: (e) => f.int(e.hits), sortBy: (e) => e.hits, kind: 'hits' },
  { label: 'Hits/s', num: true, cell: (e) => f.rate(e.hitsPerSec), sortBy: (e) => e.hitsPerSec },
  {
    label: 'Failed',
    num: true,
    cell: (e) => f.int(e.failed),
    sortBy: (e) => e.failed,
    cls: (e) => (e.failed > 0 ? 'bad' : ''),
    title: (e) => `${f.int(e.errors)} network errors · ${f.int(e.httpFailed)} unexpected statuses`,
    help: 'network errors + statuses the test did not expect',
  },
  ms((e) => e.latency.min, 'Min ms'),
  ms((e) => e.latency.mean, 'Mean ms'),
  ms((e) => e.latency.p50, 'p50 ms'),
  ms((e) => e.latency.p95, 'p95 ms'),
  ms((e) => e.latency.p99, 'p99 ms'),
  ms((e) => e.latency.p999, 'p99.9 ms'),
  ms((e) => e.latency.max, 'Max ms'),
  ms((e) => (e.ttfb.count > 0 ? e.ttfb.p50 : null), 'TTFB p50', 'time to first byte of the response, ms'),
  ms((e) => (e.ttfb.count > 0 ? e.ttfb.p95 : null), 'TTFB p95', 'time to first byte of the response, ms'),
  { label: 'Conns', num: true, cell: (e) => f.int(e.connects), sortBy: (e) => e.connects, help: 'hits that opened a new connection' },
  ms((e) => (e.connects > 0 ? e.connectMeanMs : null), 'Connect ms', 'mean TCP connect time of the hits that opened a connection'),
  ms((e) => e.tlsMeanMs, 'TLS ms', 'mean TLS handshake time after TCP connected (https, wss); – for plain HTTP: no handshake'),
  { label: '↓ Bytes', num: true, cell: (e) => f.bytes(e.bytesIn), sortBy: (e) => e.bytesIn, help: 'bytes received (WebSocket, gRPC: message payloads)' },
  { label: '↑ Bytes', num: true, cell: (e) => f.bytes(e.bytesOut), sortBy: (e) => e.bytesOut, help: 'bytes sent' },
  { label: 'Statuses', kind: 'statuses', cell: (e) => f.counts({ ...statusesOf(e), ...e.errorKinds }) },
]

/** A gRPC endpoint's statuses by name (`OK×9 UNAVAILABLE×1`), an HTTP endpoint's by code. */
export function statusesOf(e: EndpointSummary): Record<string, number> {
  return e.method === 'GRPC' ? namedGrpcStatuses(e.statuses) : e.statuses
}

export function endpointTable(): DataTable<EndpointSummary> {
  return new DataTable<EndpointSummary>({
    id: 'endpoints',
    columns: COLUMNS,
    key: (e) => `${e.method} ${e.name}`,
    empty: 'no hits yet',
    // By name, as Locust's table: rows keep their place while the numbers move (click Hits for the busiest).
    sort: { col: 1, desc: false },
    rowAttrs: (e) => ({ 'data-method': e.method }),
  })
}
