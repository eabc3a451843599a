/** Number formatting for the page: short, aligned, and the same as the console summary. */

export function ms(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–'
  if (v < 10) return v.toFixed(2)
  if (v < 1000) return v.toFixed(1)
  return WHOLE.format(Math.round(v))
}

/** One formatter for every number: `toLocaleString` builds one per call (slow on thousands of cells). */
const WHOLE = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 })

export function rate(v: number): string {
  if (v < 10) return v.toFixed(2)
  if (v < 100) return v.toFixed(1)
  return WHOLE.format(Math.round(v))
}

export function int(v: number): string {
  return WHOLE.format(Math.round(v))
}

export function percent(fraction: number): string {
  const p = fraction * 100
  return `${p === 0 || p >= 10 ? p.toFixed(1) : p.toFixed(2)}%`
}

export function duration(msTotal: number): string {
  const total = Math.max(0, Math.floor(msTotal / 1000))
  const h = Math.floor(total / 3600)
  const m = Math.floor((total % 3600) / 60)
  const s = total % 60
  const pad = (n: number): string => String(n).padStart(2, '0')
  return h > 0 ? `${h}:${pad(m)}:${pad(s)}` : `${pad(m)}:${pad(s)}`
}

export function clock(epochMs: number): string {
  const d = new Date(epochMs)
  const pad = (n: number): string => String(n).padStart(2, '0')
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
}

export function bytes(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB']
  let v = n
  let u = 0
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000
    u++
  }
  return u === 0 ? `${v} B` : `${v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : v.toFixed(0)} ${units[u]}`
}

/** `+12.3%`, `−4.0%`. */
export function signedPercent(ratio: number | null): string {
  if (ratio === null || !Number.isFinite(ratio)) return ''
  const p = ratio * 100
  const s = Math.abs(p) >= 10 ? Math.abs(p).toFixed(0) : Math.abs(p).toFixed(1)
  return `${p > 0 ? '+' : p < 0 ? '−' : '±'}${s}%`
}

/** `200×998 500×2`, most frequent first. */
export function counts(c: Record<string, number>): string {
  return Object.entries(c)
    .filter(([, n]) => n > 0)
    .sort(([a, x], [b, y]) => y - x || a.localeCompare(b))
    .map(([k, n]) => `${k}×${n}`)
    .join(' ')
}

/** A planned duration as typed on the command line: `30s`, `2m`, `1m30s`, `1h`. */
export function shortDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`
  const total = Math.round(ms / 1000)
  const h = Math.floor(total / 3600)
  const m = Math.floor((total % 3600) / 60)
  const s = total % 60
  return [h > 0 ? `${h}h` : '', m > 0 ? `${m}m` : '', s > 0 ? `${s}s` : ''].join('')
}
