/**
 * The report flags of a run (`--dashboard`, `--report`, `--output`, `--threshold`,
 * `--abort-on-fail`), shared by every command that runs or follows a load test, so a local run,
 * a cluster run and `--attach` get the same outputs through `io.reporters`.
 */
import { InvalidArgumentError, type Command } from 'commander'
import { UsageError } from '../errors.js'
import { Dashboard } from '../report/dashboard/dashboard.js'
import { outputReporters, parseOutputs } from '../report/files/output-spec.js'
import { htmlReportOutput } from '../report/html/html-report.js'
import type { Reporter } from '../report/reporter.js'
import { parseThresholds } from '../report/thresholds/threshold.js'
import { ThresholdSet } from '../report/thresholds/threshold-set.js'
import type { CliIO } from './cli-io.js'

export interface ReportFlags {
  /** `--dashboard` alone is `true`: the default port. */
  dashboard?: string | true
  dashboardHost?: string
  dashboardKeep?: boolean
  report?: string
  output?: string[]
  threshold?: string[]
  abortOnFail?: boolean
}

export const DEFAULT_DASHBOARD_PORT = 8088

const collect = (value: string, previous: string[] = []): string[] => [...previous, value]

function port(value: string): string {
  if (!/^\d+$/.test(value) || Number(value) > 65535) throw new InvalidArgumentError(`--dashboard expects a port (0 picks a free one): got '${value}'`)
  return value
}

/** Adds the report flags to a command. */
export function addReportOptions(command: Command): Command {
  return command
    .option('--dashboard [port]', `serve a live dashboard while the run goes (default port ${DEFAULT_DASHBOARD_PORT}; 0 picks a free one)`, port)
    .option('--dashboard-host <host>', 'address the dashboard listens on (default 127.0.0.1: this machine only)')
    .option('--dashboard-keep', 'keep serving the dashboard once the run is over, until Ctrl-C or its Stop button')
    .option('--report <file.html>', 'write a self-contained HTML report (charts, per-URL table, errors) when the run is over')
    .option('--output <kind:file>', 'write results: json:FILE, csv:FILE (also FILE.series.csv), junit:FILE, or null; repeat for several', collect)
    .option('--threshold <expr>', "fail the run (exit 4) unless it holds: 'p95<300ms', 'errors<1%', 'rps>500', 'GET /items/{id}:p99<1s'; repeatable", collect)
    .option('--abort-on-fail', 'stop the run as soon as a threshold fails for good (a count over its budget, max over its limit)')
}

/** What the command passes to runTests, and what it does once the run is over. */
export interface ReportSetup {
  reporters: Reporter[]
  thresholds?: ThresholdSet
  /** The CLI's signal (Ctrl-C) combined with the dashboard's Stop. */
  signal: AbortSignal
  /** After the run: keeps the dashboard up with `--dashboard-keep`, then closes it. */
  finish(): Promise<void>
}

/**
 * Parses the flags (a bad one fails before anything starts), starts the dashboard and prints
 * its URL, and builds the file outputs. Files are announced on stderr, after the summary.
 */
export async function setUpReports(flags: ReportFlags, io: Pick<CliIO, 'stdout' | 'stderr' | 'signal'>): Promise<ReportSetup> {
  const thresholds = parseThresholds(flags.threshold ?? [])
  if (flags.abortOnFail === true && thresholds.length === 0) {
    throw new UsageError('--abort-on-fail needs at least one --threshold', "e.g. --threshold 'errors<100' --abort-on-fail")
  }
  const reporters: Reporter[] = outputReporters(parseOutputs(flags.output ?? []), io.stderr)
  if (flags.report !== undefined) reporters.push(htmlReportOutput(flags.report, io.stderr))

  const stop = new AbortController()
  const signal = AbortSignal.any([io.signal, stop.signal])
  let dashboard: Dashboard | undefined
  if (flags.dashboard !== undefined) {
    dashboard = new Dashboard({
      ...(flags.dashboardHost !== undefined ? { host: flags.dashboardHost } : {}),
      port: flags.dashboard === true ? DEFAULT_DASHBOARD_PORT : Number(flags.dashboard),
      stop: () => stop.abort(new Error('stopped from the dashboard')),
      thresholds,
      keepOpen: flags.dashboardKeep === true,
    })
    const url = await dashboard.listen()
    io.stdout.write(`dashboard: ${url}\n`)
    reporters.unshift(dashboard)
  }

  return {
    reporters,
    ...(thresholds.length > 0 ? { thresholds: new ThresholdSet(thresholds, flags.abortOnFail === true) } : {}),
    signal,
    async finish() {
      if (dashboard === undefined) return
      if (flags.dashboardKeep === true && !io.signal.aborted) {
        io.stderr.write(`dashboard: the run is over; still serving ${dashboard.url} (Ctrl-C or its Stop button to quit)\n`)
        await new Promise<void>((resolve) => {
          io.signal.addEventListener('abort', () => resolve(), { once: true })
          void dashboard.waitForStopAfterEnd().then(resolve)
        })
      }
      await dashboard.close()
    },
  }
}
