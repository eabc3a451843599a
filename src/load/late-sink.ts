import type { HitSink, StreamSink, WsSink } from '../stats/hit-sink.js'
import type { Recorder } from '../stats/recorder.js'

/**
 * An open-model user's sink: every hit of the run in progress is recorded with how late that run
 * started after its intended start (`lagUs`), so the recorder keeps both the corrected latency
 * and the raw service time. One per user; a user runs one test run at a time.
 */
export class LateSink implements HitSink, WsSink, StreamSink {
  /** µs between the current run's intended start and its actual start. */
  lagUs = 0

  constructor(private readonly recorder: Recorder) {}

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
    scenario?: string,
    tlsUs?: number,
  ): void {
    this.recorder.recordLateHit(method, name, status, totalUs, ttfbUs, connectUs, bytesIn, bytesOut, errorKind, this.lagUs, failed, scenario, tlsUs)
  }

  recordStrayBytes(): void {
    this.recorder.recordStrayBytes()
  }

  recordWsMessage(name: string, direction: 'in' | 'out', bytes: number, scenario?: string): void {
    this.recorder.recordWsMessage(name, direction, bytes, scenario)
  }

  recordStreamMessage(method: string, name: string, direction: 'in' | 'out', bytes: number, scenario?: string): void {
    this.recorder.recordStreamMessage(method, name, direction, bytes, scenario)
  }

  recordWsClose(name: string, code: number, scenario?: string): void {
    this.recorder.recordWsClose(name, code, scenario)
  }
}
