/**
 * The summary's "Generator" lines: whether Loads itself kept up (docs/generator-health.md). One
 * line for the whole generator; a line per worker or agent when one stands out; a warning per
 * source that stayed over a bound, with what to do.
 */
import type { GeneratorSourceSummary, GeneratorSummary } from '../../stats/generator-types.js'
import { describeGeneratorWarning, GENERATOR_ADVICE, pct } from '../generator-advice.js'

/** Sources stand out when their p95 utilisations or p99 delays differ by this much. */
const STANDS_OUT_ELU = 0.15
const STANDS_OUT_DELAY_MS = 5
/** Per-source lines shown at most (the worst first). */
const MAX_SOURCE_LINES = 8

export function formatGenerator(g: GeneratorSummary, bold: (t: string) => string, formatBytes: (n: number) => string): string[] {
  const out: string[] = []
  const n = g.sources.length
  const cpuMax = Math.max(...g.sources.map((s) => s.cpuMax))
  const rssMax = Math.max(...g.sources.map((s) => s.rssMaxBytes))
  const load = Math.max(...g.sources.map((s) => s.load1Max))
  const cores = Math.max(...g.sources.map((s) => s.cores))
  out.push(
    `${bold('Generator:')} event-loop utilisation max ${pct(g.elu.max)} p95 ${pct(g.elu.p95)}, ` +
      `delay p95 ${ms(g.delay.p95)} p99 ${ms(g.delay.p99)} max ${ms(g.delay.max)} ` +
      `(${n} ${n === 1 ? 'source' : 'sources'}; process CPU max ${cpuMax.toFixed(2)} cores, RSS max ${formatBytes(rssMax)}, host load ${load.toFixed(2)} on ${cores} cores)`,
  )
  if (n > 1 && standsOut(g.sources)) {
    const worst = [...g.sources].sort((a, b) => b.elu.p95 - a.elu.p95 || b.delay.p99 - a.delay.p99).slice(0, MAX_SOURCE_LINES)
    const width = Math.max(...worst.map((s) => s.source.length))
    for (const s of worst) {
      out.push(`  ${s.source.padEnd(width)}  utilisation max ${pct(s.elu.max)} p95 ${pct(s.elu.p95)}, delay p99 ${ms(s.delay.p99)} max ${ms(s.delay.max)}`)
    }
    if (n > worst.length) out.push(`  … ${n - worst.length} more`)
  }
  if (g.warnings.length > 0) {
    for (const w of g.warnings) out.push(`  WARNING ${describeGeneratorWarning(w, g.limits)}`)
    out.push(`  ${GENERATOR_ADVICE}`)
  }
  return out
}

function standsOut(sources: GeneratorSourceSummary[]): boolean {
  const elus = sources.map((s) => s.elu.p95)
  const delays = sources.map((s) => s.delay.p99)
  return Math.max(...elus) - Math.min(...elus) >= STANDS_OUT_ELU || Math.max(...delays) - Math.min(...delays) >= STANDS_OUT_DELAY_MS
}

function ms(v: number): string {
  return `${v < 10 ? v.toFixed(2) : v < 1000 ? v.toFixed(1) : v.toFixed(0)} ms`
}
