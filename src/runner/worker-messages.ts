import type { RunConfig } from '../load/run-config.js'
import type { WorkerStep } from '../load/worker-engine.js'
import type { Snapshot } from '../stats/types.js'

/** What a worker thread is started with. */
export interface WorkerInit {
  bundleFile: string
  config: RunConfig
  /** Snapshot source name: `worker-0`, or `host-pid/worker-0` inside an agent. */
  source: string
  /** `--data` round-robin: an Int32 counter shared by the engine's workers (not RunConfig: it is not plain data). */
  dataCounter?: SharedArrayBuffer
}

/** Coordinator → worker. */
export type ToWorker =
  | { type: 'step'; step: WorkerStep }
  | { type: 'stop' }
  /** No more steps: tear down, send the final snapshot, exit. */
  | { type: 'finish' }

/** Worker → coordinator. */
export type FromWorker =
  | { type: 'ready' }
  | { type: 'snapshot'; snapshot: Snapshot }
  | { type: 'step-done'; index: number }
  /** The worker cannot go on (the bundle failed to load, setUpClass threw): the run ends. */
  | { type: 'fatal'; message: string; stack: string }
  | { type: 'finished' }
