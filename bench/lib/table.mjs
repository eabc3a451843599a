// Per-tool medians over the rounds, the ratios to wrk and autocannon within this run, and the
// Markdown table the README shows.

/** The median of the finite numbers of `xs` (the mean of the middle two when even), or null when none. */
export const median = (xs) => {
  const v = xs.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b)
  if (v.length === 0) return null
  const mid = Math.floor(v.length / 2)
  return v.length % 2 === 1 ? v[mid] : (v[mid - 1] + v[mid]) / 2
}

/** One row per tool: medians of its rounds, and ratios of req/s to wrk's and autocannon's. */
export function summarize(tools, runs) {
  const rows = tools.map((tool) => {
    const mine = runs.filter((r) => r.tool === tool.id && r.skipped === undefined)
    const skipped = runs.find((r) => r.tool === tool.id && r.skipped !== undefined)?.skipped
    return {
      tool: tool.id,
      label: tool.label,
      runs: mine.length,
      reqPerSec: median(mine.map((r) => r.reqPerSec)),
      reqPerSecAll: mine.map((r) => Math.round(r.reqPerSec)),
      cpuPer100k: median(mine.map((r) => r.cpuPer100k)),
      cpuUtilisation: median(mine.map((r) => r.cpuUtilisation)),
      serverCpuPer100k: median(mine.map((r) => r.serverCpuPer100k)),
      p50Ms: median(mine.map((r) => r.p50Ms)),
      p99Ms: median(mine.map((r) => r.p99Ms)),
      claimedRequests: mine.reduce((n, r) => n + (r.claimedRequests ?? 0), 0),
      serverRequests: mine.reduce((n, r) => n + r.serverRequests, 0),
      problems: mine.map((r) => r.problem).filter((p) => p),
      ...(mine.length === 0 && skipped !== undefined ? { skipped } : {}),
    }
  })
  const rate = (id) => rows.find((r) => r.tool === id)?.reqPerSec ?? null
  const wrk = rate('wrk')
  const autocannon = rate('autocannon')
  for (const row of rows) {
    row.vsWrk = wrk && row.reqPerSec !== null ? row.reqPerSec / wrk : null
    row.vsAutocannon = autocannon && row.reqPerSec !== null ? row.reqPerSec / autocannon : null
    row.vsAutocannonByRound = row.tool === 'autocannon' ? [] : byRound(runs, row.tool, 'autocannon')
  }
  return rows
}

/**
 * `tool`'s req/s over `other`'s in each round where both ran. The harness alternates the order,
 * so two neighbours in the list run back to back in every round: their ratio within a round is
 * what the machine's minute-to-minute swings disturb least.
 */
function byRound(runs, tool, other) {
  const ratios = []
  for (const round of new Set(runs.map((r) => r.round))) {
    const a = runs.find((r) => r.round === round && r.tool === tool && r.skipped === undefined)
    const b = runs.find((r) => r.round === round && r.tool === other && r.skipped === undefined)
    if (a !== undefined && b !== undefined && a.reqPerSec > 0 && b.reqPerSec > 0) ratios.push(a.reqPerSec / b.reqPerSec)
  }
  return ratios
}

/** `x` with `digits` decimals, or '–' when it is not a number. */
export const fixed = (x, digits) => (x === null || x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(digits))

export const TABLE_HEADER = ['tool', 'req/s (nginx)', '× wrk', '× autocannon', 'CPU-s / 100k req', 'core used', 'p50 ms', 'p99 ms', 'requests: own / nginx', 'nginx CPU-s / 100k req']

export function formatTable(rows, { date, machine, scene }) {
  const lines = [
    `Loads benchmark, ${date.toISOString().slice(0, 16).replace('T', ' ')} UTC${scene.smoke ? ' (smoke: too short to compare)' : ''}`,
    `${machine.cpuModel}, ${machine.cores} cores, ${machine.kernel}, Node ${machine.node}; ${scene.server}; generator on core ${scene.generatorCore ?? 'any'}, ${scene.connections} connections, ${scene.seconds} s × ${scene.rounds} round(s), medians`,
    '',
    `| ${TABLE_HEADER.join(' | ')} |`,
    `|${TABLE_HEADER.map((_, i) => (i === 0 ? ' --- ' : ' ---: ')).join('|')}|`,
  ]
  for (const r of rows) {
    if (r.skipped !== undefined) {
      lines.push(`| ${r.label} | skipped: ${r.skipped} |${' – |'.repeat(TABLE_HEADER.length - 2)}`)
      continue
    }
    lines.push(
      `| ${[
        r.label,
        r.reqPerSec === null ? '–' : String(Math.round(r.reqPerSec)),
        fixed(r.vsWrk, 2),
        fixed(r.vsAutocannon, 2),
        fixed(r.cpuPer100k, 2),
        r.cpuUtilisation === null ? '–' : `${Math.round(r.cpuUtilisation * 100)}%`,
        fixed(r.p50Ms, 2),
        fixed(r.p99Ms, 2),
        `${r.claimedRequests} / ${r.serverRequests}`,
        fixed(r.serverCpuPer100k, 2),
      ].join(' | ')} |`,
    )
  }
  const loads = rows.find((r) => r.tool === 'loads')
  if (loads?.vsAutocannonByRound?.length > 0) {
    const each = loads.vsAutocannonByRound
    lines.push('', `Loads ÷ autocannon in each round (run back to back): ${each.map((x) => x.toFixed(2)).join(', ')}${each.length > 2 ? `; median ${median(each).toFixed(2)}` : ''}`)
  }
  const problems = rows.flatMap((r) => r.problems.map((p) => `- ${r.label}: ${p}`))
  if (problems.length > 0) lines.push('', 'Problems:', ...problems)
  return lines.join('\n')
}
