/**
 * The Prometheus text exposition format (0.0.4) of the state, for `GET /metrics` on the
 * dashboard's server: the same series as remote write, latency as classic buckets (the text
 * format has no native histograms).
 */
import type { Labels, MetricsState } from './metrics-state.js'

export const PROMETHEUS_TEXT_TYPE = 'text/plain; version=0.0.4; charset=utf-8'

export function prometheusText(state: MetricsState): string {
  const lines: string[] = []
  for (const f of state.scalarFamilies()) {
    if (f.series.size === 0) continue
    lines.push(`# HELP ${f.name} ${escapeHelp(f.help)}`, `# TYPE ${f.name} ${f.type}`)
    for (const s of f.series.values()) lines.push(`${f.name}${labelText(s.labels)} ${num(s.value)}`)
  }
  for (const lat of state.histogramFamilies()) {
    if (lat.series.size === 0) continue
    lines.push(`# HELP ${lat.name} ${escapeHelp(lat.help)}`, `# TYPE ${lat.name} histogram`)
    for (const { labels, value } of lat.series.values()) {
      for (const b of value.cumulative()) lines.push(`${lat.name}_bucket${labelText({ ...labels, le: b.le })} ${b.count}`)
      lines.push(`${lat.name}_sum${labelText(labels)} ${num(value.sumS)}`, `${lat.name}_count${labelText(labels)} ${value.count}`)
    }
  }
  return lines.length > 0 ? `${lines.join('\n')}\n` : ''
}

function labelText(labels: Labels): string {
  const parts = Object.keys(labels).map((k) => `${k}="${escapeValue(labels[k]!)}"`)
  return parts.length > 0 ? `{${parts.join(',')}}` : ''
}

function escapeValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"')
}

function escapeHelp(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')
}

function num(n: number): string {
  return Number.isFinite(n) ? String(n) : n > 0 ? '+Inf' : n < 0 ? '-Inf' : 'NaN'
}
