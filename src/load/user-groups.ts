/**
 * `this.group(name, fn)` for one virtual user: times the block, names nested blocks
 * `outer::inner` (as k6 does), and tags the requests made inside with the innermost group open.
 * Requests are tagged through the user's own sink, so users running side by side never see each
 * other's groups.
 */
import { isAssertionError } from '../case/assertion-error.js'
import type { HitSink, StreamSink, WsSink } from '../stats/hit-sink.js'
import type { ScenarioRecord } from '../stats/named-records.js'
import type { Recorder } from '../stats/recorder.js'
import type { LateSink } from './late-sink.js'
import type { Outcome } from '../stats/types.js'

export class UserGroups {
  /** Full name of the innermost group open (`checkout::pay`), or null outside any group. */
  current: string | null = null

  constructor(private readonly recorder: Recorder) {}

  /**
   * Runs `fn` as group `name`: its wall time, and whether it threw (AssertionError → failure,
   * anything else → error), are recorded under the group's full name. The exception goes on.
   */
  async run<T>(name: string, fn: () => T | Promise<T>): Promise<T> {
    const outer = this.current
    const full = outer === null ? name : `${outer}::${name}`
    this.current = full
    const startMs = performance.now()
    let outcome: Outcome = 'pass'
    try {
      return await fn()
    } catch (err) {
      outcome = isAssertionError(err) ? 'failure' : 'error'
      throw err
    } finally {
      this.current = outer
      this.recorder.recordGroup(full, outcome, (performance.now() - startMs) * 1000)
    }
  }
}

/**
 * A user's sink: every hit goes on to `inner`; one made inside a group is also counted for it,
 * and a scenario's user counts it for its scenario too (and `inner` keeps its endpoint figures
 * under the scenario's name).
 */
export class GroupTagSink implements HitSink, WsSink, StreamSink {
  /**
   * @param scenario the user's scenario's figures, if it runs one.
   * @param late an open-model user's sink: a scenario's latency adds its run's lateness, as the
   *   endpoint's does.
   */
  constructor(
    private readonly inner: HitSink & WsSink & StreamSink,
    private readonly groups: UserGroups,
    private readonly recorder: Recorder,
    private readonly scenario?: ScenarioRecord,
    private readonly late?: LateSink,
  ) {}

  recordHit(
    method: string,
    name: string,
    status: number,
    totalUs: number,
    ttfbUs: number,
    connectUs: number,
    bytesIn: number,
    bytesOut: number,
    errorKind: string | null,
    failed?: boolean,
    _scenario?: string,
    tlsUs?: number,
  ): void {
    this.inner.recordHit(method, name, status, totalUs, ttfbUs, connectUs, bytesIn, bytesOut, errorKind, failed, this.scenario?.name, tlsUs)
    const group = this.groups.current
    if (group !== null) this.recorder.recordGroupRequest(group, method, name)
    this.scenario?.hit(totalUs + (this.late?.lagUs ?? 0), errorKind !== null || (failed ?? status >= 400))
  }

  recordStrayBytes(): void {
    this.inner.recordStrayBytes?.()
  }

  recordWsMessage(name: string, direction: 'in' | 'out', bytes: number): void {
    this.inner.recordWsMessage(name, direction, bytes, this.scenario?.name)
  }

  recordWsClose(name: string, code: number): void {
    this.inner.recordWsClose(name, code, this.scenario?.name)
  }

  recordStreamMessage(method: string, name: string, direction: 'in' | 'out', bytes: number): void {
    this.inner.recordStreamMessage(method, name, direction, bytes, this.scenario?.name)
  }
}
