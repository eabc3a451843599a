/**
 * `--output prometheus:URL`, `--output influxdb:URL`, `--output otlp:URL`: parsed once, before the
 * run, into typed specs; credentials come apart (from the environment or a file, read by the CLI)
 * and never appear in a URL, a message or a label.
 */
import { UsageError } from '../../errors.js'
import { influxLines } from './influx-lines.js'
import { MetricsOutput, type MetricsBackend } from './metrics-output.js'
import type { ResourceMetrics } from '@opentelemetry/sdk-metrics'
import type { HistogramMode } from './remote-write.js'
import { postOrThrow } from './write-queue.js'

export const METRICS_KINDS = ['prometheus', 'influxdb', 'otlp'] as const
export type MetricsKind = (typeof METRICS_KINDS)[number]

export type MetricsSpec =
  | { kind: 'prometheus'; url: string }
  | { kind: 'otlp'; url: string }
  | { kind: 'influxdb'; url: string; version: 1; db: string }
  | { kind: 'influxdb'; url: string; version: 2; org: string; bucket: string }

/** Credentials, as the CLI read them from the environment or files. Never printed. */
export interface MetricsCredentials {
  /** Prometheus remote write: a bearer token, or basic auth. */
  prometheus?: { bearerToken?: string; username?: string; password?: string }
  /** InfluxDB: a 2.x token (also accepted by 1.8+), or 1.x user and password. */
  influxdb?: { token?: string; username?: string; password?: string }
  /** OTLP: extra headers (e.g. `authorization`). */
  otlpHeaders?: Record<string, string>
}

export interface MetricsSettings {
  /** Shared by the outputs of one run: the end waits once for all of them, not once each. */
  flushDeadline: { at?: number }
  histograms: HistogramMode
  maxNames: number
  credentials: MetricsCredentials
  log?: NodeJS.WritableStream
  /** How long the end of the run waits for the last writes, all outputs together, ms. */
  flushTimeoutMs?: number
  intervalMs?: number
}

/** True for `prometheus:…`, `influxdb:…`, `otlp:…`. */
export function isMetricsOutput(value: string): boolean {
  return METRICS_KINDS.some((k) => value.startsWith(`${k}:`))
}

const SECRET_PARAMS = ['u', 'p', 'token', 'password', 'access_token']

export function parseMetricsOutput(value: string): MetricsSpec {
  const colon = value.indexOf(':')
  const kind = value.slice(0, colon) as MetricsKind
  const text = value.slice(colon + 1)
  const bad = (why: string, hint: string): UsageError => new UsageError(`--output ${kind}:…: ${why}`, hint, 'LOADS_ERR_OUTPUT')
  let url: URL
  try {
    url = new URL(text)
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http')
  } catch {
    throw bad('expects an http:// or https:// URL', EXAMPLES[kind])
  }
  if (url.username !== '' || url.password !== '' || SECRET_PARAMS.some((p) => url.searchParams.has(p))) {
    throw bad('credentials do not go in the URL (it is printed)', 'give them by environment or file: see docs/observability.md (LOADS_PROMETHEUS_TOKEN, LOADS_INFLUXDB_TOKEN …)')
  }
  if (kind === 'prometheus') {
    if (url.pathname === '/') url.pathname = '/api/v1/write'
    return { kind, url: url.href }
  }
  if (kind === 'otlp') {
    if (url.pathname === '/') url.pathname = '/v1/metrics'
    return { kind, url: url.href }
  }
  const bucket = url.searchParams.get('bucket')
  const org = url.searchParams.get('org')
  if (bucket !== null || org !== null) {
    if (bucket === null || org === null || bucket === '' || org === '') throw bad('InfluxDB 2.x needs both org and bucket', EXAMPLES.influxdb)
    return { kind, url: `${url.origin}${url.pathname.replace(/\/(api\/v2\/write)?$/, '')}`, version: 2, org, bucket }
  }
  const db = url.searchParams.get('db') ?? url.pathname.replace(/^\/(write\/?)?/, '').replace(/\/$/, '')
  if (db === '' || db.includes('/')) throw bad('no database', EXAMPLES.influxdb)
  return { kind, url: url.origin, version: 1, db: decodeURIComponent(db) }
}

const EXAMPLES: Record<MetricsKind, string> = {
  prometheus: 'e.g. --output prometheus:http://127.0.0.1:9090/api/v1/write',
  influxdb: 'e.g. --output influxdb:http://127.0.0.1:8086/loads (1.x database) or influxdb:http://127.0.0.1:8086?org=ORG&bucket=BUCKET (2.x)',
  otlp: 'e.g. --output otlp:http://127.0.0.1:4318/v1/metrics',
}

/** How a spec is named in messages: its URL (which holds no credentials). */
export function metricsLabel(spec: MetricsSpec): string {
  if (spec.kind === 'influxdb' && spec.version === 2) return `--output influxdb:${spec.url}?org=${spec.org}&bucket=${spec.bucket}`
  if (spec.kind === 'influxdb') return `--output influxdb:${spec.url}/${spec.db}`
  return `--output ${spec.kind}:${spec.url}`
}

const WRITE_TIMEOUT_MS = 5000

/**
 * The output for a spec. The encoders are loaded here, for the kinds asked for: OpenTelemetry's
 * SDK and protobufjs cost a third of the CLI's start-up, which a run without them never pays.
 */
export async function metricsReporter(spec: MetricsSpec, settings: MetricsSettings): Promise<MetricsOutput<unknown>> {
  const opts = {
    label: metricsLabel(spec),
    maxNames: settings.maxNames,
    ...(settings.log !== undefined ? { log: settings.log } : {}),
    ...(settings.flushTimeoutMs !== undefined ? { flushTimeoutMs: settings.flushTimeoutMs } : {}),
    flushDeadline: settings.flushDeadline,
    ...(settings.intervalMs !== undefined ? { intervalMs: settings.intervalMs } : {}),
  }
  return new MetricsOutput((await backend(spec, settings)) as MetricsBackend<unknown>, opts)
}

async function backend(spec: MetricsSpec, settings: MetricsSettings): Promise<MetricsBackend<Uint8Array> | MetricsBackend<string> | MetricsBackend<ResourceMetrics>> {
  const creds = settings.credentials
  if (spec.kind === 'prometheus') {
    const { encodeRemoteWrite } = await import('./remote-write.js')
    const headers: Record<string, string> = {
      'content-type': 'application/x-protobuf',
      'content-encoding': 'snappy',
      'x-prometheus-remote-write-version': '0.1.0',
      'user-agent': 'loads',
      ...authHeader(creds.prometheus?.bearerToken, creds.prometheus?.username, creds.prometheus?.password, 'Bearer'),
    }
    return {
      render: (state, _info, nowMs) => encodeRemoteWrite(state, nowMs, settings.histograms),
      send: (body: Uint8Array, signal: AbortSignal) => postOrThrow(spec.url, { headers, body }, WRITE_TIMEOUT_MS, signal),
    }
  }
  if (spec.kind === 'influxdb') {
    const i = creds.influxdb
    const headers: Record<string, string> = { 'content-type': 'text/plain; charset=utf-8', ...authHeader(i?.token, i?.username, i?.password, 'Token') }
    const url =
      spec.version === 2
        ? `${spec.url}/api/v2/write?${new URLSearchParams({ org: spec.org, bucket: spec.bucket, precision: 'ms' })}`
        : `${spec.url}/write?${new URLSearchParams({ db: spec.db, precision: 'ms' })}`
    return {
      render: (state, _info, nowMs) => influxLines(state, nowMs) || undefined,
      send: (body: string, signal: AbortSignal) => postOrThrow(url, { headers, body }, WRITE_TIMEOUT_MS, signal),
    }
  }
  const { OtlpSender, otlpMetrics } = await import('./otlp-metrics.js')
  const sender = new OtlpSender(spec.url, creds.otlpHeaders ?? {}, WRITE_TIMEOUT_MS)
  return {
    render: (state, info, nowMs) => otlpMetrics(state, info.startMs, nowMs),
    send: (m: ResourceMetrics) => sender.send(m),
    close: () => sender.close(),
  }
}

function authHeader(token: string | undefined, user: string | undefined, password: string | undefined, scheme: string): Record<string, string> {
  if (token !== undefined) return { authorization: `${scheme} ${token}` }
  if (user !== undefined) return { authorization: `Basic ${Buffer.from(`${user}:${password ?? ''}`).toString('base64')}` }
  return {}
}
