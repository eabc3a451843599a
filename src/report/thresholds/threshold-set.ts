/**
 * The thresholds of one run, as the coordinator uses them: checked after merged snapshots for
 * `--abort-on-fail`, judged once at the end, and printed in the summary.
 */
import type { Aggregator } from '../../stats/aggregator.js'
import type { RunSummary, EncodedHistograms } from '../../stats/types.js'
import { isMonotone, judgeThresholds, type ThresholdResult } from './judge.js'
import type { Threshold } from './threshold.js'

export class ThresholdSet {
  readonly #monotone: Threshold[]
  #lastCheckMs = -Infinity

  /**
   * @param abortOnFail stop the run as soon as a threshold fails for good (see
   *   `ThresholdResult.final`); the others are judged at the end only.
   * @param checkIntervalMs least time between two mid-run checks.
   */
  constructor(
    readonly thresholds: readonly Threshold[],
    readonly abortOnFail = false,
    private readonly checkIntervalMs = 200,
  ) {
    this.#monotone = thresholds.filter(isMonotone)
  }

  /**
   * Mid-run, with `abortOnFail`: the first threshold that failed for good, if any. Cheap to call
   * after every snapshot: it does nothing without `abortOnFail` or between throttled checks.
   */
  failedForGood(aggregator: Aggregator, nowMs = Date.now()): ThresholdResult | undefined {
    if (!this.abortOnFail || this.#monotone.length === 0) return undefined
    if (nowMs - this.#lastCheckMs < this.checkIntervalMs) return undefined
    this.#lastCheckMs = nowMs
    const needsHistograms = this.#monotone.some((t) => t.scope !== undefined && t.scope.method === undefined)
    const results = judgeThresholds(this.#monotone, aggregator.summary(), needsHistograms ? aggregator.encodedHistograms() : undefined)
    return results.find((r) => r.final)
  }

  /** The verdicts on the merged results. */
  judge(summary: RunSummary, histograms?: EncodedHistograms): ThresholdResult[] {
    return judgeThresholds(this.thresholds, summary, histograms)
  }
}

/** Lines for the end-of-run summary: each threshold, pass or FAIL, with what was measured. */
export function formatThresholdLines(results: readonly ThresholdResult[], abortedBy?: string): string[] {
  if (results.length === 0) return []
  const failed = results.filter((r) => !r.pass).length
  const title = failed === 0 ? `Thresholds (all ${results.length} passed):` : `Thresholds (${failed} of ${results.length} failed):`
  const width = Math.max(...results.map((r) => r.threshold.length))
  const lines = results.map((r) => `  ${r.pass ? 'pass' : 'FAIL'}  ${r.threshold.padEnd(width)}  ${r.metric} ${r.measuredText}`)
  if (abortedBy !== undefined) lines.push(`  the run was stopped early (--abort-on-fail): '${abortedBy}' failed for good`)
  return [title, ...lines]
}
