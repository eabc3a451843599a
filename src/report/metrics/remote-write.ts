/**
 * Prometheus remote write 1.0: the state as a `WriteRequest` (protobuf), snappy-compressed.
 * Counters and gauges are one sample per series; latency is either classic buckets
 * (`_bucket{le}`, `_sum`, `_count`: 15 series per URL name) or one native histogram per URL name
 * (exponential buckets, schema 3; the receiver needs `--enable-feature=native-histograms`).
 */
import protobuf from 'protobufjs'
import snappy from 'snappyjs'
import type { LatencyBuckets } from './latency-buckets.js'
import { NATIVE_SCHEMA } from './latency-buckets.js'
import type { Labels, MetricsState } from './metrics-state.js'

/** How latency goes out: `native` histograms, or `classic` fixed buckets. */
export type HistogramMode = 'native' | 'classic'

// The messages of prometheus/prompb (remote.proto, types.proto) that a writer needs.
const PROTO = `
syntax = "proto3";
package prometheus;
message WriteRequest { repeated TimeSeries timeseries = 1; repeated MetricMetadata metadata = 3; }
message MetricMetadata { int32 type = 1; string metric_family_name = 2; string help = 4; string unit = 5; }
message TimeSeries { repeated Label labels = 1; repeated Sample samples = 2; repeated Histogram histograms = 4; }
message Label { string name = 1; string value = 2; }
message Sample { double value = 1; int64 timestamp = 2; }
message BucketSpan { sint32 offset = 1; uint32 length = 2; }
message Histogram {
  oneof count { uint64 count_int = 1; double count_float = 2; }
  double sum = 3;
  sint32 schema = 4;
  double zero_threshold = 5;
  oneof zero_count { uint64 zero_count_int = 6; double zero_count_float = 7; }
  repeated BucketSpan negative_spans = 8;
  repeated sint64 negative_deltas = 9;
  repeated BucketSpan positive_spans = 11;
  repeated sint64 positive_deltas = 12;
  int32 reset_hint = 14;
  int64 timestamp = 15;
}
`

let writeRequest: protobuf.Type | undefined
/** The WriteRequest type, parsed once (tests decode with it too). */
export function writeRequestType(): protobuf.Type {
  writeRequest ??= protobuf.parse(PROTO).root.lookupType('prometheus.WriteRequest')
  return writeRequest
}

/** MetricMetadata.type: COUNTER = 1, GAUGE = 2, HISTOGRAM = 3. */
const METADATA_TYPE = { counter: 1, gauge: 2, histogram: 3 } as const

interface Series {
  labels: { name: string; value: string }[]
  samples?: { value: number; timestamp: number }[]
  histograms?: object[]
}

/** The whole state at `nowMs`, as the body of a remote-write POST (snappy-compressed protobuf). */
export function encodeRemoteWrite(state: MetricsState, nowMs: number, mode: HistogramMode): Uint8Array {
  const timeseries: Series[] = []
  const metadata: object[] = []
  for (const f of state.scalarFamilies()) {
    metadata.push({ type: METADATA_TYPE[f.type], metricFamilyName: f.name, help: f.help })
    for (const s of f.series.values()) timeseries.push(sample(f.name, s.labels, s.value, nowMs))
  }
  for (const lat of state.histogramFamilies()) {
    if (lat.series.size === 0) continue
    metadata.push({ type: METADATA_TYPE.histogram, metricFamilyName: lat.name, help: lat.help, unit: 'seconds' })
    for (const { labels, value } of lat.series.values()) {
      if (mode === 'native') timeseries.push({ labels: promLabels(lat.name, labels), histograms: [nativeHistogram(value, nowMs)] })
      else {
        for (const b of value.cumulative()) timeseries.push(sample(`${lat.name}_bucket`, { ...labels, le: b.le }, b.count, nowMs))
        timeseries.push(sample(`${lat.name}_sum`, labels, value.sumS, nowMs))
        timeseries.push(sample(`${lat.name}_count`, labels, value.count, nowMs))
      }
    }
  }
  const type = writeRequestType()
  // Plain objects in the messages' shape: encode() takes them as they are (fromObject would copy all).
  const bytes = type.encode({ timeseries, metadata }).finish()
  return snappy.compress(bytes)
}

function nativeHistogram(b: LatencyBuckets, nowMs: number): object {
  const { spans, deltas } = b.spans()
  return {
    countInt: b.count,
    sum: b.sumS,
    schema: NATIVE_SCHEMA,
    zeroThreshold: 0,
    zeroCountInt: b.zeroCount,
    positiveSpans: spans,
    positiveDeltas: deltas,
    timestamp: nowMs,
  }
}

function sample(name: string, labels: Labels, value: number, timestamp: number): Series {
  return { labels: promLabels(name, labels), samples: [{ value, timestamp }] }
}

/** `__name__` first, the others sorted by name, as Prometheus stores them. */
function promLabels(name: string, labels: Labels): { name: string; value: string }[] {
  const out = [{ name: '__name__', value: name }]
  for (const k of Object.keys(labels).sort()) out.push({ name: k, value: labels[k]! })
  return out
}
