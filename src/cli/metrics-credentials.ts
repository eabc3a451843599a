/**
 * Credentials of the metrics backends, read from the environment, each also from a file (the
 * `…_FILE` variable names it, as Docker and Kubernetes secrets are mounted). Only the CLI reads
 * them; they go into request headers and nowhere else (never a URL, a message, or a result file).
 *
 *   LOADS_PROMETHEUS_TOKEN            bearer token for remote write
 *   LOADS_PROMETHEUS_USERNAME / _PASSWORD  basic auth for remote write
 *   LOADS_INFLUXDB_TOKEN              InfluxDB 2.x token (`Authorization: Token …`)
 *   LOADS_INFLUXDB_USERNAME / _PASSWORD    InfluxDB 1.x user (basic auth)
 *   LOADS_OTLP_HEADERS                `key=value,key=value` headers for OTLP (as OTEL_EXPORTER_OTLP_HEADERS)
 */
import { readFileSync } from 'node:fs'
import { UsageError } from '../errors.js'
import type { MetricsCredentials } from '../report/metrics/metrics-spec.js'

export function metricsCredentials(env: NodeJS.ProcessEnv): MetricsCredentials {
  const get = (name: string): string | undefined => secret(env, name)
  const out: MetricsCredentials = {}
  const prometheus = defined({ bearerToken: get('LOADS_PROMETHEUS_TOKEN'), username: get('LOADS_PROMETHEUS_USERNAME'), password: get('LOADS_PROMETHEUS_PASSWORD') })
  if (prometheus !== undefined) out.prometheus = prometheus
  const influxdb = defined({ token: get('LOADS_INFLUXDB_TOKEN'), username: get('LOADS_INFLUXDB_USERNAME'), password: get('LOADS_INFLUXDB_PASSWORD') })
  if (influxdb !== undefined) out.influxdb = influxdb
  const headers = get('LOADS_OTLP_HEADERS')
  if (headers !== undefined) out.otlpHeaders = parseHeaders(headers)
  return out
}

/** `NAME` from the environment, or the content of the file `NAME_FILE` names (trailing newline cut). */
function secret(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const direct = env[name]
  if (direct !== undefined && direct !== '') return direct
  const file = env[`${name}_FILE`]
  if (file === undefined || file === '') return undefined
  try {
    return readFileSync(file, 'utf8').replace(/\r?\n$/, '')
  } catch (err) {
    // The path is not a secret; the content would be.
    throw new UsageError(`${name}_FILE: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, 'give a readable file holding only the secret', 'LOADS_ERR_OUTPUT')
  }
}

function parseHeaders(text: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const part of text.split(',')) {
    const eq = part.indexOf('=')
    if (eq <= 0) throw new UsageError('LOADS_OTLP_HEADERS: expected key=value,key=value', 'e.g. LOADS_OTLP_HEADERS="authorization=Bearer …"', 'LOADS_ERR_OUTPUT')
    out[decodeURIComponent(part.slice(0, eq).trim())] = decodeURIComponent(part.slice(eq + 1).trim())
  }
  return out
}

function defined<T extends Record<string, string | undefined>>(o: T): { [K in keyof T]?: string } | undefined {
  const out: { [K in keyof T]?: string } = {}
  let any = false
  for (const k in o) {
    if (o[k] !== undefined) {
      out[k] = o[k]
      any = true
    }
  }
  return any ? out : undefined
}
