import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import { gunzipSync } from 'node:zlib'
import protobuf from 'protobufjs'
import { ROOT } from './cli.js'
import { resetOnRetry } from './retry-reset.js'

/** A request as a recording server kept it. */
export interface Recorded {
  method: string
  url: string
  headers: IncomingHttpHeaders
  body: Buffer
}

export interface RecordingServer {
  url: string
  requests: Recorded[]
  close(): Promise<void>
}

/** An HTTP server on port 0 that keeps every request and answers `status` (204 by default). */
export async function startRecordingServer(answer: (r: Recorded) => { status: number; type?: string; body?: Uint8Array | string } = () => ({ status: 204 })): Promise<RecordingServer> {
  const requests: Recorded[] = []
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      let body = Buffer.concat(chunks)
      if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body)
      const r: Recorded = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body }
      requests.push(r)
      const a = answer(r)
      res.writeHead(a.status, a.type !== undefined ? { 'content-type': a.type } : {})
      res.end(a.body)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const forget = resetOnRetry(() => {
    requests.length = 0
  })
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () =>
      new Promise((resolve) => {
        forget()
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}

const otlpRoot = protobuf.loadSync(path.join(ROOT, 'test/fixtures/otlp/metrics-service.proto'))

/** An OTLP/HTTP metrics receiver: decodes each protobuf export with the OpenTelemetry definitions. */
export async function startOtlpReceiver(): Promise<RecordingServer & { exports(): OtlpExport[] }> {
  const response = otlpRoot.lookupType('opentelemetry.proto.ExportMetricsServiceResponse')
  const server = await startRecordingServer(() => ({ status: 200, type: 'application/x-protobuf', body: response.encode({}).finish() }))
  const request = otlpRoot.lookupType('opentelemetry.proto.ExportMetricsServiceRequest')
  return {
    ...server,
    exports: () => server.requests.map((r) => request.toObject(request.decode(r.body), { longs: Number, enums: String, defaults: false, oneofs: true }) as OtlpExport),
  }
}

export interface OtlpKeyValue {
  key: string
  value: { stringValue?: string; intValue?: number }
}
export interface OtlpNumberPoint {
  attributes?: OtlpKeyValue[]
  asInt?: number
  asDouble?: number
  startTimeUnixNano: number
  timeUnixNano: number
}
export interface OtlpMetric {
  name: string
  unit?: string
  sum?: { dataPoints: OtlpNumberPoint[]; aggregationTemporality: string; isMonotonic?: boolean }
  gauge?: { dataPoints: OtlpNumberPoint[] }
  histogram?: { dataPoints: { attributes?: OtlpKeyValue[]; count: number; sum?: number; bucketCounts: number[]; explicitBounds: number[] }[]; aggregationTemporality: string }
}
export interface OtlpExport {
  resourceMetrics: { resource?: { attributes?: OtlpKeyValue[] }; scopeMetrics: { scope?: { name: string }; metrics: OtlpMetric[] }[] }[]
}

/** An attribute's value, as a string. */
export function attr(attributes: OtlpKeyValue[] | undefined, key: string): string | undefined {
  const v = attributes?.find((a) => a.key === key)?.value
  return v?.stringValue ?? (v?.intValue !== undefined ? String(v.intValue) : undefined)
}
