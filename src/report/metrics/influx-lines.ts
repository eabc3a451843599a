/**
 * InfluxDB line protocol for the state: one line per series, measurement = the metric's name
 * without its `_total` suffix (`loads_hits`, `loads_failures`, …), labels as tags, the
 * value in field `value` (latency: `count`, `sum`, `min`, `max` and one `le_…` field per classic
 * bucket), timestamps in ms (`precision=ms`). The same for InfluxDB 1.x and 2.x.
 */
import type { Labels, MetricsState } from './metrics-state.js'

export function influxLines(state: MetricsState, nowMs: number): string {
  const lines: string[] = []
  for (const f of state.scalarFamilies()) {
    const m = measurement(f.name)
    for (const s of f.series.values()) lines.push(`${m}${tags(s.labels)} value=${float(s.value)} ${nowMs}`)
  }
  for (const f of state.histogramFamilies()) {
    const m = measurement(f.name)
    for (const { labels, value } of f.series.values()) {
      const buckets = value.cumulative().map((b) => `le_${b.le === '+Inf' ? 'inf' : b.le.replace('.', '_')}=${b.count}i`)
      lines.push(`${m}${tags(labels)} count=${value.count}i,sum=${float(value.sumS)},min=${float(value.minS)},max=${float(value.maxS)},${buckets.join(',')} ${nowMs}`)
    }
  }
  return lines.length > 0 ? `${lines.join('\n')}\n` : ''
}

/** `loads_hits_total` → `loads_hits`; `loads_hit_duration_seconds` stays. */
export function measurement(name: string): string {
  return name.replace(/_total$/, '')
}

function tags(labels: Labels): string {
  let out = ''
  for (const k of Object.keys(labels).sort()) {
    const v = labels[k]!
    if (v === '') continue
    out += `,${escapeKey(k)}=${escapeKey(v)}`
  }
  return out
}

/** Tag keys and values: commas, equals signs and spaces escaped. */
function escapeKey(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/([,= ])/g, '\\$1').replace(/\n/g, '\\n')
}

function float(n: number): string {
  return Number.isFinite(n) ? String(n) : '0'
}
