/**
 * What the front end is given: a live run to follow (the dashboard), a finished run (the static
 * report), or two runs to compare. The static report embeds it in the page; plain data only.
 */
import type { Comparison } from './compare/compare.js'
import type { ReportView } from './result.js'

export type PageData =
  | { kind: 'live' }
  | { kind: 'run'; view: ReportView; loadsVersion: string; generatedMs: number }
  | { kind: 'compare'; base: ReportView; current: ReportView; baseLabel: string; currentLabel: string; comparison: Comparison; loadsVersion: string; generatedMs: number }

/** One message of the dashboard's event stream (`GET /api/events`). */
export interface LiveMessage {
  view: ReportView
  /** True when `view.series` is the whole series; otherwise only its recent tail (points replace by `t`). */
  fullSeries: boolean
  /** Set on the last message: the run is over and the stream ends. */
  done: boolean
}
