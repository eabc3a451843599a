/**
 * `--report FILE.html`: the static report of a run, written once it is over; and the pages
 * `loads report` builds from saved results.
 */
import { compareRuns, type CompareOptions } from '../compare/compare.js'
import { FileOutput } from '../files/file-output.js'
import { loadsVersion } from '../loads-version.js'
import type { Reporter } from '../reporter.js'
import { resultView, type RunResult } from '../result.js'
import { renderStaticPage } from './render-page.js'
import { loadUiAssets } from './ui-assets.js'

/** The report of one run, from its result. */
export function reportHtml(result: RunResult, generatedMs = Date.now()): string {
  return renderStaticPage({ kind: 'run', view: resultView(result), loadsVersion: result.loadsVersion, generatedMs }, loadUiAssets(), `Loads report: ${result.run.address}`)
}

/** The comparison of two runs. */
export function compareHtml(base: RunResult, current: RunResult, labels: { base: string; current: string }, options?: CompareOptions, generatedMs = Date.now()): string {
  return renderStaticPage(
    {
      kind: 'compare',
      base: resultView(base),
      current: resultView(current),
      baseLabel: labels.base,
      currentLabel: labels.current,
      comparison: compareRuns(base, current, options),
      loadsVersion: loadsVersion(),
      generatedMs,
    },
    loadUiAssets(),
    `Loads comparison: ${labels.base} → ${labels.current}`,
  )
}

/** `--report FILE`: writes the static report when the run is over; a relative FILE is relative to `cwd` (the CLI's). */
export function htmlReportOutput(file: string, log?: NodeJS.WritableStream, cwd?: string): Reporter {
  return new FileOutput(`--report ${file}`, [file], (result) => [{ path: file, content: reportHtml(result) }], log, cwd)
}
