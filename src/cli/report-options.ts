/**
 * The report flags of a run (`--dashboard`, `--report`, `--output`, `--threshold`,
 * `--abort-on-fail`), shared by every command that runs or follows a load test, so a local run,
 * a cluster run and `--attach` get the same outputs through `io.reporters`.
 */
import { InvalidArgumentError, type Command } from 'commander'
import { UsageError } from '../errors.js'
import { Dashboard, type DashboardOptions } from '../report/dashboard/dashboard.js'
import { LiveControl } from '../runner/live-control.js'
import { checkDistinctPaths } from '../report/files/file-output.js'
import { outputReporters, parseOutputs } from '../report/files/output-spec.js'
import { htmlReportOutput } from '../report/html/html-report.js'
import { DEFAULT_MAX_NAMES } from '../report/metrics/metrics-state.js'
import { isMetricsOutput, metricsReporter, parseMetricsOutput } from '../report/metrics/metrics-spec.js'
import type { HistogramMode } from '../report/metrics/remote-write.js'
import type { Reporter } from '../report/reporter.js'
import { parseThresholds } from '../report/thresholds/threshold.js'
import { ThresholdSet } from '../report/thresholds/threshold-set.js'
import type { CliIO } from './cli-io.js'
import { metricsCredentials } from './metrics-credentials.js'
import { positiveInt } from './options.js'

export interface ReportFlags {
  /** `--dashboard` alone is `true`: the default port. */
  dashboard?: string | true
  dashboardHost?: string
  dashboardKeep?: boolean
  report?: string
  output?: string[]
  threshold?: string[]
  abortOnFail?: boolean
  prometheusHistograms?: HistogramMode
  metricsMaxNames?: number
}

export const DEFAULT_DASHBOARD_PORT = 8088

const collect = (value: string, previous: string[] = []): string[] => [...previous, value]

function histogramMode(value: string): HistogramMode {
  if (value !== 'native' && value !== 'classic') throw new InvalidArgumentError(`--prometheus-histograms expects classic or native: got '${value}'`)
  return value
}

function port(value: string): string {
  if (!/^\d+$/.test(value) || Number(value) > 65535) throw new InvalidArgumentError(`--dashboard expects a port (0 picks a free one): got '${value}'`)
  return value
}

/** Adds the report flags to a command. */
export function addReportOptions(command: Command): Command {
  return command
    .option('--dashboard [port]', `serve a live dashboard while the run goes (default port ${DEFAULT_DASHBOARD_PORT}; 0 picks a free one)`, port)
    .option('--dashboard-host <host>', 'address the dashboard listens on (default 127.0.0.1: this machine only); any other needs the token printed in its URL')
    .option('--dashboard-keep', 'keep serving the dashboard once the run is over, until Ctrl-C or its Stop button')
    .option('--report <file.html>', 'write a self-contained HTML report (charts, per-URL table, errors) when the run is over')
    .option('--output <kind:file>', 'write results: json:FILE, csv:FILE (also FILE.series.csv, FILE.details.csv), junit:FILE, or null; stream metrics: prometheus:URL (remote write), influxdb:URL, otlp:URL; repeat for several', collect)
    .option('--prometheus-histograms <kind>', 'latency in remote write: classic (fixed buckets, any Prometheus) or native (needs --enable-feature=native-histograms)', histogramMode)
    .option('--metrics-max-names <n>', `distinct URL names the metrics outputs keep apart (a name used by two scenarios counts twice); more are folded into one (default ${DEFAULT_MAX_NAMES})`, positiveInt('--metrics-max-names'))
    .option('--threshold <expr>', "fail the run (exit 4) unless it holds: 'p95<300ms', 'errors<1%', 'rps>500', 'GET /items/{id}:p99<1s'; repeatable", collect)
    .option('--abort-on-fail', 'stop the run as soon as a threshold fails for good (a count over its budget, max over its limit)')
}

/** What the command passes to runTests, and what it does once the run is over. */
export interface ReportSetup {
  reporters: Reporter[]
  thresholds?: ThresholdSet
  /** The CLI's signal (Ctrl-C) combined with the dashboard's Stop. */
  signal: AbortSignal
  /** Live control of the run through the dashboard's API (present with --dashboard). */
  control?: LiveControl
  /** After the run: keeps the dashboard up with `--dashboard-keep`, then closes it. */
  finish(): Promise<void>
}

/**
 * Parses the flags (a bad one fails before anything starts), starts the dashboard and prints
 * its URL, and builds the file outputs. Files are announced on stderr, after the summary.
 */
export async function setUpReports(flags: ReportFlags, io: Pick<CliIO, 'stdout' | 'stderr' | 'signal' | 'cwd'> & { env?: NodeJS.ProcessEnv }, web?: DashboardOptions['web']): Promise<ReportSetup> {
  const thresholds = parseThresholds(flags.threshold ?? [])
  if (flags.abortOnFail === true && thresholds.length === 0) {
    throw new UsageError('--abort-on-fail needs at least one --threshold', "e.g. --threshold 'errors<100' --abort-on-fail")
  }
  const outputs = flags.output ?? []
  const reporters: Reporter[] = outputReporters(parseOutputs(outputs.filter((o) => !isMetricsOutput(o))), io.stderr, io.cwd)
  const metrics = outputs.filter(isMetricsOutput).map(parseMetricsOutput)
  if (metrics.length > 0) {
    const settings = {
      histograms: flags.prometheusHistograms ?? 'classic',
      maxNames: flags.metricsMaxNames ?? DEFAULT_MAX_NAMES,
      credentials: metricsCredentials(io.env ?? {}),
      log: io.stderr,
      flushDeadline: {},
    } as const
    for (const spec of metrics) reporters.push(await metricsReporter(spec, settings))
  }
  if (flags.report !== undefined) reporters.push(htmlReportOutput(flags.report, io.stderr, io.cwd))
  checkDistinctPaths(reporters)

  const stop = new AbortController()
  const signal = AbortSignal.any([io.signal, stop.signal])
  let dashboard: Dashboard | undefined
  const control = flags.dashboard !== undefined ? new LiveControl() : undefined
  if (flags.dashboard !== undefined) {
    dashboard = new Dashboard({
      ...(control !== undefined ? { control } : {}),
      ...(web !== undefined ? { web } : {}),
      ...(flags.dashboardHost !== undefined ? { host: flags.dashboardHost } : {}),
      port: flags.dashboard === true ? DEFAULT_DASHBOARD_PORT : Number(flags.dashboard),
      stop: () => stop.abort(new Error('stopped from the dashboard')),
      thresholds,
      keepOpen: flags.dashboardKeep === true || web !== undefined,
    })
    const url = await dashboard.listen()
    io.stdout.write(`dashboard: ${url}\n`)
    reporters.unshift(dashboard)
  }

  return {
    reporters,
    ...(thresholds.length > 0 ? { thresholds: new ThresholdSet(thresholds, flags.abortOnFail === true) } : {}),
    signal,
    ...(control !== undefined ? { control } : {}),
    async finish() {
      if (dashboard === undefined) return
      if (flags.dashboardKeep === true && !io.signal.aborted && web === undefined) {
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
