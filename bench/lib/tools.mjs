// The load generators the benchmark compares, each as: how to start it for the scene (URL, 50
// connections, N seconds) and how to read the figures it reports about itself.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { autocannonBin } from './system.mjs'

/** `12.34us` / `1.20ms` / `2.00s` → ms. */
function toMs(value, unit) {
  const n = Number(value)
  return unit === 'us' ? n / 1000 : unit === 's' ? n * 1000 : unit === 'm' ? n * 60_000 : n
}

export function parseWrk(stdout) {
  const p = (pct) => {
    const m = new RegExp(`^\\s*${pct}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, 'm').exec(stdout)
    return m === null ? null : toMs(m[1], m[2])
  }
  const requests = /(\d+) requests in/.exec(stdout)
  return { claimedRequests: requests === null ? null : Number(requests[1]), p50Ms: p(50), p99Ms: p(99), errors: /Non-2xx|Socket errors/.test(stdout) ? stdout.match(/(Non-2xx.*|Socket errors.*)/g).join('; ') : null }
}

export function parseAutocannon(stdout) {
  const json = JSON.parse(stdout.trim().split('\n').filter((l) => l.startsWith('{')).pop())
  return {
    claimedRequests: json.requests.total,
    p50Ms: json.latency.p50,
    p99Ms: json.latency.p99,
    errors: json.errors + json.non2xx + json.timeouts > 0 ? `errors=${json.errors} non2xx=${json.non2xx} timeouts=${json.timeouts}` : null,
  }
}

export function parseUndiciPool(stdout) {
  const json = JSON.parse(stdout.trim().split('\n').pop())
  return { claimedRequests: json.requests, p50Ms: json.p50Ms, p99Ms: json.p99Ms, errors: json.errors > 0 ? `errors=${json.errors}` : null }
}

/** Loads' console summary: `Hits: N (…)`, `Latency (ms): … p50 X … p99 Y …`, `<TestResult …>`. */
export function parseLoads(stdout) {
  const hits = /Hits:\s*(\d+)/.exec(stdout)
  const lat = /Latency \(ms\):.*?p50 ([\d.]+).*?p99 ([\d.]+)/.exec(stdout)
  const result = /<TestResult run=(\d+) errors=(\d+) failures=(\d+)>/.exec(stdout)
  const networkErrors = /network errors: (\d+)/.exec(stdout)
  const bad = result !== null && (Number(result[2]) > 0 || Number(result[3]) > 0)
  const netBad = networkErrors !== null && Number(networkErrors[1]) > 0
  return {
    claimedRequests: hits === null ? null : Number(hits[1]),
    p50Ms: lat === null ? null : Number(lat[1]),
    p99Ms: lat === null ? null : Number(lat[2]),
    errors: bad || netBad ? `test errors=${result?.[2]} failures=${result?.[3]} network errors=${networkErrors?.[1]}` : null,
  }
}

/** Locust's `--csv` stats file: the Aggregated row's count and percentiles (ms, as Locust rounds them). */
export function parseLocustCsv(csv) {
  const lines = csv.trim().split('\n')
  const header = splitCsv(lines[0])
  const row = lines.map(splitCsv).find((r) => r[1] === 'Aggregated')
  if (row === undefined) return { claimedRequests: null, p50Ms: null, p99Ms: null, errors: 'no Aggregated row' }
  const col = (name) => Number(row[header.indexOf(name)])
  const failures = col('Failure Count')
  return { claimedRequests: col('Request Count'), p50Ms: col('50%'), p99Ms: col('99%'), errors: failures > 0 ? `failures=${failures}` : null }
}

function splitCsv(line) {
  return line.split(',').map((c) => c.replace(/^"|"$/g, ''))
}

/**
 * What a measured tool says of itself (`tool.parse` of its output: requests, p50, p99), and the
 * problem to show in its row, or null: a non-zero exit (with the last 3 lines of its stderr),
 * output that could not be read, or the errors the tool reported.
 */
export function readOwnFigures(tool, result) {
  let own
  try {
    own = tool.parse(result)
  } catch (err) {
    own = { claimedRequests: null, p50Ms: null, p99Ms: null, errors: `could not read its output: ${err.message}` }
  }
  const problem = result.code !== 0 ? `exit ${result.code ?? result.signal}: ${result.stderr.trim().split('\n').slice(-3).join(' | ')}` : own.errors
  return { own, problem: problem ?? null }
}

/**
 * Every tool of the scene. `start(ctx)` returns the command to measure; `parse(result)` its own
 * figures. ctx: { url, connections, seconds, root }.
 */
export const TOOLS = [
  {
    id: 'wrk',
    label: 'wrk (C, 1 thread)',
    needs: ['wrk'],
    start: ({ url, connections, seconds }) => ({ command: 'wrk', args: ['-t1', `-c${connections}`, `-d${seconds}s`, '--latency', `${url}/`] }),
    parse: (r) => parseWrk(r.stdout),
  },
  {
    id: 'autocannon',
    label: 'autocannon',
    needs: ['autocannon'],
    start: ({ url, connections, seconds, root }) => ({ command: process.execPath, args: [autocannonBin(root), '-c', String(connections), '-d', String(seconds), '-j', `${url}/`] }),
    parse: (r) => parseAutocannon(r.stdout),
  },
  {
    id: 'loads',
    label: 'Loads TestCase (1 worker)',
    needs: [],
    start: ({ url, connections, seconds, root }) => ({
      command: process.execPath,
      args: [join(root, 'bin/loads-runner.js'), join(root, 'bench/loads-case.ts') + ':Bench.test_index', '-u', String(connections), '-d', `${seconds}s`, '-w', '1', '--server-url', url, '-q'],
      cwd: root,
    }),
    parse: (r) => parseLoads(r.stdout),
  },
  {
    id: 'undici-pool',
    label: 'undici Pool loop',
    needs: [],
    start: ({ url, connections, seconds, root }) => ({ command: process.execPath, args: [join(root, 'bench/peers/undici-pool.mjs'), url, String(connections), String(seconds)], cwd: root }),
    parse: (r) => parseUndiciPool(r.stdout),
  },
  locust('locust-fast', 'Locust FastHttpUser', 'FastHttpScenario'),
  locust('locust-http', 'Locust HttpUser', 'HttpScenario'),
]

function locust(id, label, userClass) {
  let dir
  return {
    id,
    label,
    needs: ['locust', 'geventhttpclient'],
    start: ({ url, connections, seconds, root }) => {
      dir = mkdtempSync(join(tmpdir(), 'loads-bench-locust-'))
      return {
        command: '/usr/bin/locust',
        args: ['-f', join(root, 'bench/peers/locustfile.py'), '--headless', '-u', String(connections), '-r', String(connections), '-t', `${seconds}s`, '-H', url, '--only-summary', '--csv', join(dir, 'run'), '--exit-code-on-error', '0', '--loglevel', 'WARNING', userClass],
      }
    },
    parse: () => {
      try {
        return parseLocustCsv(readFileSync(join(dir, 'run_stats.csv'), 'utf8'))
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    },
  }
}
