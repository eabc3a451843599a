import type { ChangeEvent } from '../../load/control.js'
import type { Aggregator } from '../../stats/aggregator.js'
import type { Reporter, RunInfo, RunOutcome } from '../reporter.js'
import { describeGeneratorWarning, GENERATOR_ADVICE } from '../generator-advice.js'
import { GENERATOR_LIMITS } from '../../stats/generator-health.js'
import { MANY_NAMES, manyNamesWarning } from '../many-names.js'
import { formatPlanLine } from './plan-line.js'
import { ProgressReporter } from './progress.js'
import { formatSummary } from './summary.js'

export interface ConsoleReporterOptions {
  stream: NodeJS.WritableStream
  isTTY: boolean
  columns?: number | undefined
  quiet: boolean
  /** Test runs expected; undefined when the plan is bounded by time. */
  plannedRuns?: number | undefined
  plannedDurationMs?: number | undefined
  /** Agents of a cluster run: the plan line counts them, the progress line waits for them. */
  agents?: number | undefined
  /** Say the run's id after the plan line (a cluster run: `--attach` and `loads ctl --run` take it). */
  showRunId?: boolean | undefined
}

/** The console output: a progress line while the run goes, the summary at the end. */
export class ConsoleReporter implements Reporter {
  /** The run, for the plan line (printed again, as changed, at each live change). */
  private info: RunInfo | undefined
  private changes: ChangeEvent[] = []
  private readonly progress: ProgressReporter
  private timer: NodeJS.Timeout | undefined
  /** Generator-health warnings already printed. */
  private warned = 0
  /** Whether the many-URL-names warning was printed. */
  private warnedNames = false

  constructor(private readonly options: ConsoleReporterOptions) {
    this.progress = new ProgressReporter({
      stream: options.stream,
      isTTY: options.isTTY,
      quiet: options.quiet,
      ...(options.plannedRuns !== undefined ? { total: options.plannedRuns } : {}),
      ...(options.plannedDurationMs !== undefined ? { durationMs: options.plannedDurationMs } : {}),
      ...(options.columns !== undefined ? { columns: options.columns } : {}),
      ...(options.agents !== undefined ? { agents: options.agents } : {}),
    })
  }

  /** One line saying what is about to run, so a log reads on its own. */
  onRunStart(info: RunInfo): void {
    this.info = info
    this.changes = []
    if (this.options.quiet) return
    this.options.stream.write(`${formatPlanLine(info, { plannedRuns: this.options.plannedRuns, agents: this.options.agents })}\n`)
    if (this.options.showRunId === true) this.options.stream.write(`run ${info.runId}: loads ctl scale|pause|resume|stop --run ${info.runId.slice(0, 8)} changes it live\n`)
  }

  onSnapshot(_snapshot: unknown, aggregator: Aggregator): void {
    this.warnGenerator(aggregator)
    this.warnNames(aggregator)
    this.progress.update(aggregator.latest())
    // Keep the elapsed time and rate moving between snapshots on a terminal.
    if (this.options.isTTY && !this.timer && !this.options.quiet) {
      this.timer = setInterval(() => this.progress.update(aggregator.latest()), 250)
      this.timer.unref()
    }
  }

  /**
   * A live change (docs/live-control.md): the plan line again, as changed — `…: 1 test, 10 users
   * for 1m, changed at 00:42 to 200 users by the API, on 2 workers` — in the log.
   */
  onChange(event: ChangeEvent): void {
    this.changes.push(event)
    if (this.options.quiet || this.info === undefined) return
    const line = formatPlanLine(this.info, { agents: this.options.agents, changes: this.changes })
    this.options.stream.write(this.options.isTTY ? `\r\x1b[K${line}\n` : `${line}\n`)
  }

  /** A source just stayed over a generator-health bound long enough: say so at once, and what to do. */
  private warnGenerator(aggregator: Aggregator): void {
    if (this.options.quiet) return
    const warnings = aggregator.generatorWarnings()
    for (; this.warned < warnings.length; this.warned++) {
      const line = `warning: ${describeGeneratorWarning(warnings[this.warned]!, GENERATOR_LIMITS)}: ${GENERATOR_ADVICE}`
      // On a terminal, over the progress line (redrawn by the next update).
      this.options.stream.write(this.options.isTTY ? `\r\x1b[K${line}\n` : `${line}\n`)
    }
  }

  /** Once, as soon as the run has more distinct URL names than a report can usefully show. */
  private warnNames(aggregator: Aggregator): void {
    if (this.options.quiet || this.warnedNames || aggregator.endpointCount <= MANY_NAMES) return
    this.warnedNames = true
    const line = `warning: ${manyNamesWarning(aggregator.endpointCount, true)}`
    this.options.stream.write(this.options.isTTY ? `\r\x1b[K${line}\n` : `${line}\n`)
  }

  onRunEnd(outcome: RunOutcome, aggregator: Aggregator): void {
    clearInterval(this.timer)
    this.progress.done(aggregator.latest(), outcome.interrupted, outcome.summary.hitsPerSec)
    this.options.stream.write(`\n${formatSummary(outcome.summary, { extraLines: outcome.notes })}\n`)
  }
}
