import { Command, InvalidArgumentError, Option } from 'commander'
import path from 'node:path'
import { LoadsError, UsageError } from '../errors.js'
import { compareRuns } from '../report/compare/compare.js'
import { formatComparison } from '../report/compare/format-comparison.js'
import { writeAtomically } from '../report/files/file-output.js'
import { formatJson } from '../report/files/json-output.js'
import { mergeResults } from '../report/files/merge-results.js'
import { readResult } from '../report/files/read-result.js'
import { compareHtml, reportHtml } from '../report/html/html-report.js'
import type { RunResult } from '../report/result.js'
import { judgeThresholds } from '../report/thresholds/judge.js'
import { parseThresholds } from '../report/thresholds/threshold.js'
import { formatThresholdLines } from '../report/thresholds/threshold-set.js'
import { ExitCode } from '../runner/exit-codes.js'
import { CliExit, type CliIO } from './cli-io.js'

interface ReportCommandFlags {
  out?: string
  merge?: boolean
  threshold?: string[]
  tolerance: number
  failOnRegression?: boolean
  force?: boolean
}

const HELP = `
Examples:
  loads report results.json -o report.html        the HTML report of a saved run (--output json:results.json)
  loads report base.json current.json             compare two runs: each side's plan and tests, deltas per
                                                  URL and per test, regressions and improvements flagged
  loads report base.json current.json -o diff.html   … and the comparison as an HTML page
  loads report a.json b.json --merge -o all.json  merge runs exactly (HDR histograms add): .json or .html
  loads report results.json --threshold 'p95<300ms'  judge a saved run (exit 4 if a threshold fails)

Two runs of different tests or plans (users, runs, durations, rates, pause, think time), or
one local and one cluster run, are not comparable: exit 2 unless --force.

Exit codes: 0 done; 2 bad usage, not a Loads result (or one whose histograms were edited or cut
short), or runs not comparable; 4 a --threshold failed, or a regression with --fail-on-regression.
`

/** `loads report`: HTML reports, comparisons and merges from results saved by `--output json:FILE`. */
export function reportCommand(io: CliIO): Command {
  return new Command('report')
    .description('build an HTML report from a saved JSON result, compare two results, or merge several')
    .argument('<results...>', 'result files written by --output json:FILE')
    .option('-o, --out <file>', 'where to write: an .html report (default: RESULT.html for one result), or .json with --merge')
    .option('--merge', 'merge the results into one (exact percentiles), instead of comparing two')
    .option('--threshold <expr>', 'judge the (merged) result; exit 4 if one fails; repeatable', (v: string, prev: string[] = []) => [...prev, v])
    .addOption(new Option('--tolerance <percent>', 'comparison: relative change tolerated before it is a regression').argParser(tolerance).default(0.1, '10%'))
    .option('--fail-on-regression', 'comparison: exit 4 if a regression is flagged')
    .option('--force', 'comparison: compare runs of different tests or plans anyway')
    .addHelpText('after', HELP)
    .action((files: string[], flags: ReportCommandFlags) => {
      const thresholds = parseThresholds(flags.threshold ?? [])
      const results = files.map((f) => readResult(path.resolve(io.cwd, f)))
      const out = flags.out !== undefined ? path.resolve(io.cwd, flags.out) : undefined

      if (results.length === 2 && flags.merge !== true) {
        const [base, current] = results as [RunResult, RunResult]
        const labels = { base: files[0]!, current: files[1]! }
        if (thresholds.length > 0) throw new UsageError('--threshold judges one result: give one file, or --merge')
        const comparison = compareRuns(base, current, { tolerance: flags.tolerance })
        const forced = flags.force === true
        io.stdout.write(formatComparison(comparison, labels, { forced }))
        if (comparison.notComparable.length > 0 && !forced) {
          throw new LoadsError('LOADS_ERR_NOT_COMPARABLE', `the runs are not comparable: ${comparison.notComparable.join('; ')}`, {
            hint: '--force compares them anyway (a change of plan shows as changed rates and latencies, not as a regression of the service)',
          })
        }
        if (out !== undefined) write(io, out, compareHtml(base, current, labels, { tolerance: flags.tolerance }))
        throw new CliExit(flags.failOnRegression === true && comparison.regressionCount > 0 ? ExitCode.THRESHOLD : ExitCode.OK)
      }
      if (results.length > 2 && flags.merge !== true) {
        throw new UsageError(`${results.length} results given: compare takes two`, 'add --merge to merge them into one')
      }

      const result = results.length === 1 ? results[0]! : mergeResults(results)
      const verdicts = judgeThresholds(thresholds, result.summary, result.histograms)
      const final = verdicts.length > 0 ? { ...result, thresholds: verdicts } : result
      const target = out ?? (results.length === 1 ? defaultHtml(path.resolve(io.cwd, files[0]!)) : undefined)
      if (target === undefined) throw new UsageError('--merge needs -o FILE.json or FILE.html')
      write(io, target, target.endsWith('.json') ? formatJson(final) : reportHtml(final))
      if (verdicts.length > 0) io.stdout.write(`${formatThresholdLines(verdicts).join('\n')}\n`)
      throw new CliExit(verdicts.some((v) => !v.pass) ? ExitCode.THRESHOLD : ExitCode.OK)
    })
}

function write(io: CliIO, file: string, content: string): void {
  writeAtomically(file, content)
  io.stdout.write(`wrote ${path.relative(io.cwd, file) || file}\n`)
}

function defaultHtml(file: string): string {
  return file.endsWith('.json') ? `${file.slice(0, -5)}.html` : `${file}.html`
}

function tolerance(value: string): number {
  const m = /^(\d+(?:\.\d+)?)%?$/.exec(value.trim())
  if (m === null) throw new InvalidArgumentError(`--tolerance expects a percentage like 10%: got '${value}'`)
  return Number(m[1]) / 100
}
