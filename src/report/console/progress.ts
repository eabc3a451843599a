/**
 * The progress line of a run. On a terminal it redraws one line in place (`\r` and clear to the
 * end of line) at most ~10 times a second; elsewhere (CI logs, pipes) it writes a plain line
 * every few seconds, so logs stay readable. It only reads the live view it is given.
 */
import type { LiveView } from '../../stats/types.js'

export interface ProgressOptions {
  stream: NodeJS.WritableStream
  isTTY: boolean
  /** Test runs expected (users × cycles); undefined when the run is bounded by time. */
  total?: number
  /** Planned duration when the run is bounded by time. */
  durationMs?: number
  /** Print nothing at all. */
  quiet?: boolean
  /** Terminal width; default 80. */
  columns?: number
  /** Clock for throttling, ms. */
  now?: () => number
  /** Least time between two lines; default 100 ms on a terminal, 5000 ms elsewhere. */
  intervalMs?: number
  /** Agents of a cluster run: until they report, the line says it waits for them. */
  agents?: number
}

const CLEAR_LINE = '\x1b[K'

export class ProgressReporter {
  readonly #opts: ProgressOptions
  readonly #now: () => number
  readonly #intervalMs: number
  #lastDrawMs = -Infinity
  #last: LiveView | undefined
  #done = false
  #barWidth: number | undefined

  constructor(opts: ProgressOptions) {
    this.#opts = opts
    this.#now = opts.now ?? Date.now
    this.#intervalMs = opts.intervalMs ?? (opts.isTTY ? 100 : 5000)
  }

  /** A new live view; drawn now unless the previous line is too recent. */
  update(live: LiveView): void {
    this.#last = live
    if (this.#opts.quiet === true || this.#done) return
    const now = this.#now()
    if (now - this.#lastDrawMs < this.#intervalMs) return
    const percent = this.#percent(live)
    // Off a terminal, 100% is said once, by the final line (with the whole run's rate).
    if (!this.#opts.isTTY && percent === 100) return
    this.#lastDrawMs = now
    this.#write(live, percent)
  }

  /**
   * Draws the final line at 100% and ends it with a newline. Later updates are ignored.
   * `avgHitsPerSec` is the whole run's rate (the summary's); without it, hits over elapsed time.
   */
  done(live: LiveView | undefined = this.#last, interrupted = false, avgHitsPerSec?: number): void {
    if (this.#done) return
    this.#done = true
    if (this.#opts.quiet === true || live === undefined) return
    const avg = avgHitsPerSec ?? (live.elapsedMs > 0 ? (live.hits * 1000) / live.elapsedMs : undefined)
    // An interrupted run shows how far it got, not 100%.
    this.#write(avg === undefined ? live : { ...live, hitsPerSec: avg }, interrupted ? this.#percent(live) : 100, true)
    if (this.#opts.isTTY) this.#opts.stream.write('\n')
  }

  #percent(live: LiveView): number | undefined {
    const { total, durationMs } = this.#opts
    let ratio: number | undefined
    if (total !== undefined && total > 0) ratio = live.tests.run / total
    else if (durationMs !== undefined && durationMs > 0) ratio = live.elapsedMs / durationMs
    if (ratio === undefined) return undefined
    return Math.min(100, Math.max(0, Math.floor(ratio * 100)))
  }

  #write(live: LiveView, percent: number | undefined, final = false): void {
    const { agents } = this.#opts
    if (!final && agents !== undefined && live.hits === 0 && live.sources < agents) {
      // Agents are booting: no percentage or rate yet, only what the run waits for.
      const waiting = `waiting for ${agents - live.sources} of ${agents} agent${agents === 1 ? '' : 's'} to report`
      this.#opts.stream.write(this.#opts.isTTY ? `\r${waiting}${CLEAR_LINE}` : `progress: ${waiting}\n`)
      return
    }
    const stats = formatStats(live, this.#opts.isTTY ? '  ' : ' ', final)
    if (!this.#opts.isTTY) {
      const pct = percent === undefined ? '' : ` ${percent}%`
      this.#opts.stream.write(`progress:${pct} ${stats}\n`)
      return
    }
    const columns = Math.max(20, this.#opts.columns ?? 80)
    const pct = percent === undefined ? '' : `${String(percent).padStart(3)}%  `
    let text = `${pct}${stats}`
    // Room for the bar: the brackets, two spaces, and one column spare so the line never wraps.
    // The width is chosen once, with headroom for growing numbers, so the bar does not jitter;
    // it only shrinks if the numbers outgrow the headroom.
    const room = columns - text.length - 5
    this.#barWidth ??= Math.min(40, room - 4)
    if (this.#barWidth > room) this.#barWidth = room
    const barWidth = this.#barWidth
    if (percent !== undefined && barWidth >= 10) {
      const filled = Math.round((barWidth * percent) / 100)
      text = `[${'='.repeat(filled)}${' '.repeat(barWidth - filled)}]  ${text}`
    } else if (percent === undefined && barWidth >= 10) {
      text = `[${spinner(live.elapsedMs, barWidth)}]  ${text}`
    }
    if (text.length > columns - 1) text = text.slice(0, columns - 1)
    this.#opts.stream.write(`\r${text}${CLEAR_LINE}`)
  }
}

/**
 * `1234 hits  5678 hits/s now  run=420 errors=0 failures=0` (single spaces off a terminal): the
 * rate of the last seconds while the run goes; on the final line, `… hits/s avg`, over the run.
 */
function formatStats(live: LiveView, sep: string, final = false): string {
  const rate = `${Math.round(live.hitsPerSec)} hits/s ${final ? 'avg' : 'now'}`
  const t = live.tests
  return `${live.hits} hits${sep}${rate}${sep}run=${t.run} errors=${t.errors} failures=${t.failures}`
}

/** A block that moves across an open-ended run's bar, one step per 100 ms. */
function spinner(elapsedMs: number, width: number): string {
  const pos = Math.floor(elapsedMs / 100) % width
  return `${' '.repeat(pos)}=${' '.repeat(width - pos - 1)}`
}
