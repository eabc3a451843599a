// The table of a side-by-side scene (TLS / HTTP/2, gRPC): per tool its req/s in each round and
// their median, CPU per 100k requests, latency, and Loads' ratio to its peer in each round.
import os from 'node:os'
import { fixed, median } from './table.mjs'

/** `uptime`'s three load averages, as a string: reported beside every figure (the machine is shared). */
export function loadAverage() {
  return os.loadavg().map((x) => x.toFixed(2)).join(' ')
}

/**
 * @param tools [{ id, label }]
 * @param runs  [{ round, tool, reqPerSec, cpuPer100k, p50Ms, p99Ms, serverRequests, claimedRequests, problem, loadAverage, skipped? }]
 * @param pairs [[loadsId, peerId, label]] ratios to print per round
 */
export function sceneSummary(tools, runs, pairs) {
  const rows = tools.map((tool) => {
    const mine = runs.filter((r) => r.tool === tool.id && r.skipped === undefined)
    return {
      tool: tool.id,
      label: tool.label,
      reqPerSec: median(mine.map((r) => r.reqPerSec)),
      reqPerSecAll: mine.map((r) => Math.round(r.reqPerSec)),
      cpuPer100k: median(mine.map((r) => r.cpuPer100k)),
      p50Ms: median(mine.map((r) => r.p50Ms)),
      p99Ms: median(mine.map((r) => r.p99Ms)),
      claimedRequests: mine.reduce((n, r) => n + (r.claimedRequests ?? 0), 0),
      serverRequests: mine.reduce((n, r) => n + r.serverRequests, 0),
      loadAverages: mine.map((r) => r.loadAverage),
      problems: mine.map((r) => r.problem).filter((p) => p),
      skipped: mine.length === 0 ? runs.find((r) => r.tool === tool.id)?.skipped : undefined,
    }
  })
  const ratios = pairs.map(([a, b, label]) => {
    const byRound = []
    for (const round of new Set(runs.map((r) => r.round))) {
      const x = runs.find((r) => r.round === round && r.tool === a && r.skipped === undefined)
      const y = runs.find((r) => r.round === round && r.tool === b && r.skipped === undefined)
      if (x && y && x.reqPerSec > 0 && y.reqPerSec > 0) byRound.push(x.reqPerSec / y.reqPerSec)
    }
    return { loads: a, peer: b, label, byRound, median: median(byRound) }
  })
  return { rows, ratios }
}

/** Markdown: the scene, one row per tool, then the ratios round by round. */
export function formatScene(title, scene, { rows, ratios }) {
  const out = [`### ${title}`, '', scene, '']
  out.push('| tool | req/s (median) | req/s per round | CPU-s/100k | p50 ms | p99 ms | own / server count | load average per round |')
  out.push('| --- | ---: | --- | ---: | ---: | ---: | --- | --- |')
  for (const r of rows) {
    if (r.skipped !== undefined) {
      out.push(`| ${r.label} | skipped: ${r.skipped} | | | | | | |`)
      continue
    }
    out.push(`| ${r.label} | ${fixed(r.reqPerSec, 0)} | ${r.reqPerSecAll.join(', ')} | ${fixed(r.cpuPer100k, 2)} | ${fixed(r.p50Ms, 2)} | ${fixed(r.p99Ms, 2)} | ${r.claimedRequests ?? '–'} / ${r.serverRequests} | ${r.loadAverages.join(' · ')} |`)
  }
  out.push('')
  for (const q of ratios) out.push(`${q.label} in each round (run back to back): ${q.byRound.map((x) => x.toFixed(2)).join(', ') || '–'}; median ${fixed(q.median, 2)}`)
  const problems = rows.flatMap((r) => r.problems.map((p) => `${r.label}: ${p}`))
  if (problems.length > 0) out.push('', ...problems.map((p) => `- ${p}`))
  return out.join('\n')
}
