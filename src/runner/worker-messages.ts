import type { EngineChange } from '../load/control.js'
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
  /** The worker's heartbeat and runs in progress (worker-pulse.ts), read by its engine. */
  pulse: SharedArrayBuffer
}

/** Coordinator → worker. */
export type ToWorker =
  | { type: 'step'; step: WorkerStep }
  | { type: 'stop' }
  /**
   * Live control: this worker's share of a change (docs/live-control.md). A pause or resume comes
   * numbered (`seq`, counted by the engine) and is answered with `applied` once in force.
   */
  | { type: 'control'; change: EngineChange; seq?: number }
  /** No more steps: tear down, send the final snapshot, exit. */
  | { type: 'finish' }

/** Worker → coordinator. */
export type FromWorker =
  | { type: 'ready' }
  | { type: 'snapshot'; snapshot: Snapshot }
  | { type: 'step-done'; index: number }
  /** The pause or resume numbered `seq` is in force here: paused, no run starts any more (or runs start again). */
  | { type: 'applied'; seq: number }
  /** The worker cannot go on (the bundle failed to load, setUpClass threw): the run ends. */
  | { type: 'fatal'; message: string; stack: string }
  /**
   * An error no test run caught (uncaught exception, unhandled rejection): the worker sent what
   * it recorded and its runs in progress (`cut`, per test index), and waits to be ended.
   */
  | { type: 'crashed'; message: string; stack: string; cut: number[] }
  | { type: 'finished' }
