import type { Aggregator } from '../../stats/aggregator.js'
import { describeStep } from '../../load/plan.js'
import type { Reporter, RunInfo, RunOutcome } from '../reporter.js'
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
}

/** The console output: a progress line while the run goes, the summary at the end. */
export class ConsoleReporter implements Reporter {
  private readonly progress: ProgressReporter
  private timer: NodeJS.Timeout | undefined

  constructor(private readonly options: ConsoleReporterOptions) {
    this.progress = new ProgressReporter({
      stream: options.stream,
      isTTY: options.isTTY,
      quiet: options.quiet,
      ...(options.plannedRuns !== undefined ? { total: options.plannedRuns } : {}),
      ...(options.plannedDurationMs !== undefined ? { durationMs: options.plannedDurationMs } : {}),
      ...(options.columns !== undefined ? { columns: options.columns } : {}),
    })
  }

  /** One line saying what is about to run, so a log reads on its own. */
  onRunStart(info: RunInfo): void {
    if (this.options.quiet) return
    const steps = info.plan.steps.map(describeStep).join(', then ')
    const tests = info.tests.length === 1 ? '1 test' : `${info.tests.length} tests`
    const total = this.options.plannedRuns !== undefined ? ` = ${this.options.plannedRuns} runs` : ''
    const where = info.mode === 'local' ? `${info.workers} worker${info.workers === 1 ? '' : 's'}` : 'the cluster'
    this.options.stream.write(`${info.address}: ${tests}, ${steps}${total}, on ${where}\n`)
  }

  onSnapshot(_snapshot: unknown, aggregator: Aggregator): void {
    this.progress.update(aggregator.latest())
    // Keep the elapsed time and rate moving between snapshots on a terminal.
    if (this.options.isTTY && !this.timer && !this.options.quiet) {
      this.timer = setInterval(() => this.progress.update(aggregator.latest()), 250)
      this.timer.unref()
    }
  }

  onRunEnd(outcome: RunOutcome, aggregator: Aggregator): void {
    clearInterval(this.timer)
    this.progress.done(aggregator.latest(), outcome.interrupted)
    this.options.stream.write(`\n${formatSummary(outcome.summary, { extraLines: outcome.notes })}\n`)
  }
}
