/**
 * The state as OpenTelemetry metrics, sent by the official OTLP/HTTP exporter (protobuf) once a
 * second: cumulative sums, a gauge of users, and latency as `http.client.request.duration` (an
 * explicit-bucket histogram, seconds) with the HTTP semantic conventions' attribute names where
 * they fit (`http.request.method`, `url.template`, `error.type`); Loads' own under `loads.*`.
 */
import { ValueType, type Attributes, type HrTime } from '@opentelemetry/api'
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto'
import { resourceFromAttributes } from '@opentelemetry/resources'
import { AggregationTemporality, DataPointType, type MetricData, type ResourceMetrics } from '@opentelemetry/sdk-metrics'
import { CLASSIC_BOUNDS_S } from './latency-buckets.js'
import type { Family, Labels, MetricsState } from './metrics-state.js'
import { WriteError } from './write-queue.js'

export const OTLP_DURATION_NAME = 'http.client.request.duration'

/** Our label names → OpenTelemetry attribute names. */
const ATTRIBUTE: Record<string, string> = {
  method: 'http.request.method',
  name: 'url.template',
  kind: 'error.type',
  run_id: 'loads.run_id',
  test: 'loads.test',
  agent: 'loads.agent',
  status_class: 'loads.status_class',
  outcome: 'loads.outcome',
  counter: 'loads.counter',
  check: 'loads.check',
  result: 'loads.check.result',
  group: 'loads.group',
  test_method: 'loads.test_method',
  scenario: 'loads.scenario',
}

/** Prometheus-style family name → OpenTelemetry name and unit. */
const OTEL_NAME: Record<string, { name: string; unit: string }> = {
  loads_hits_total: { name: 'loads.hits', unit: '{hit}' },
  loads_failures_total: { name: 'loads.failures', unit: '{hit}' },
  loads_received_bytes_total: { name: 'loads.received', unit: 'By' },
  loads_sent_bytes_total: { name: 'loads.sent', unit: 'By' },
  loads_test_runs_total: { name: 'loads.test_runs', unit: '{run}' },
  loads_counter_total: { name: 'loads.counter', unit: '1' },
  loads_checks_total: { name: 'loads.checks', unit: '{check}' },
  loads_active_users: { name: 'loads.active_users', unit: '{user}' },
  loads_group_runs_total: { name: 'loads.group.runs', unit: '{block}' },
  loads_test_method_runs_total: { name: 'loads.test_method.runs', unit: '{run}' },
  loads_scenario_hits_total: { name: 'loads.scenario.hits', unit: '{hit}' },
  loads_scenario_failures_total: { name: 'loads.scenario.failures', unit: '{hit}' },
  loads_scenario_test_runs_total: { name: 'loads.scenario.test_runs', unit: '{run}' },
  loads_hit_duration_seconds: { name: OTLP_DURATION_NAME, unit: 's' },
  loads_group_duration_seconds: { name: 'loads.group.duration', unit: 's' },
  loads_test_method_duration_seconds: { name: 'loads.test_method.duration', unit: 's' },
  loads_scenario_hit_duration_seconds: { name: 'loads.scenario.hit.duration', unit: 's' },
}


/** The state as one `ResourceMetrics`, cumulative since `startMs`. */
export function otlpMetrics(state: MetricsState, startMs: number, nowMs: number): ResourceMetrics {
  const start = hrTime(startMs)
  const end = hrTime(nowMs)
  const metrics: MetricData[] = state.scalarFamilies().filter((f) => f.series.size > 0).map((f) => scalar(f, start, end))
  for (const f of state.histogramFamilies()) {
    if (f.series.size === 0) continue
    metrics.push({
      descriptor: { name: OTEL_NAME[f.name]?.name ?? f.name, description: f.help, unit: 's', valueType: ValueType.DOUBLE },
      aggregationTemporality: AggregationTemporality.CUMULATIVE,
      dataPointType: DataPointType.HISTOGRAM,
      dataPoints: [...f.series.values()].map(({ labels, value }) => ({
        startTime: start,
        endTime: end,
        attributes: attributes(labels),
        value: {
          buckets: { boundaries: [...CLASSIC_BOUNDS_S], counts: [...value.classic] },
          sum: value.sumS,
          count: value.count,
          min: value.minS,
          max: value.maxS,
        },
      })),
    })
  }
  return {
    resource: resourceFromAttributes({ 'service.name': 'loads' }),
    scopeMetrics: [{ scope: { name: 'loads' }, metrics }],
  }
}

function scalar(f: Family<number>, start: HrTime, end: HrTime): MetricData {
  const otel = OTEL_NAME[f.name] ?? { name: f.name, unit: '1' }
  const descriptor = { name: otel.name, description: f.help, unit: otel.unit, valueType: ValueType.INT }
  const dataPoints = [...f.series.values()].map((s) => ({ startTime: start, endTime: end, attributes: attributes(s.labels), value: s.value }))
  if (f.type === 'gauge') return { descriptor, aggregationTemporality: AggregationTemporality.CUMULATIVE, dataPointType: DataPointType.GAUGE, dataPoints }
  return { descriptor, aggregationTemporality: AggregationTemporality.CUMULATIVE, dataPointType: DataPointType.SUM, dataPoints, isMonotonic: true }
}

function attributes(labels: Labels): Attributes {
  const out: Attributes = {}
  for (const k in labels) out[ATTRIBUTE[k] ?? `loads.${k}`] = labels[k]!
  return out
}

function hrTime(ms: number): HrTime {
  return [Math.floor(ms / 1000), (ms % 1000) * 1e6]
}

/**
 * The official exporter, one export at a time through our queue (its own retries and timeout
 * apply inside). Headers (credentials) come from the caller or OTEL_EXPORTER_OTLP_*HEADERS.
 */
export class OtlpSender {
  readonly #exporter: OTLPMetricExporter

  constructor(url: string, headers: Record<string, string>, timeoutMs: number) {
    this.#exporter = new OTLPMetricExporter({ url, headers, timeoutMillis: timeoutMs, temporalityPreference: AggregationTemporality.CUMULATIVE })
  }

  send(metrics: ResourceMetrics): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#exporter.export(metrics, (result) => {
        // ExportResultCode.SUCCESS is 0.
        if (result.code === 0) resolve()
        else reject(new WriteError(result.error?.message ?? 'export failed', false))
      })
    })
  }

  async close(): Promise<void> {
    await this.#exporter.shutdown()
  }
}
