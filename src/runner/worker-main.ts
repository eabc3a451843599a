/**
 * The entry point of a worker thread: loads the test bundle, runs the steps it is sent, and
 * streams snapshots to its coordinator every interval and a final one at the end.
 */
import path from 'node:path'
import { parentPort, workerData } from 'node:worker_threads'
import { importBundle } from '../case/bundle-file.js'
import { installApi } from '../case/api.js'
import { userStack } from '../case/stack.js'
import { WorkerEngine } from '../load/worker-engine.js'
import { Recorder } from '../stats/recorder.js'
import type { Snapshot } from '../stats/types.js'
import { everyAligned, type AlignedTimer } from '../util/aligned-timer.js'
import { GeneratorProbe } from './generator-probe.js'
import type { FromWorker, ToWorker, WorkerInit } from './worker-messages.js'
import { PULSE_MS, WorkerPulse } from './worker-pulse.js'

const port = parentPort
if (!port) throw new Error('worker-main runs in a worker thread')
const init = workerData as WorkerInit

function send(message: FromWorker): void {
  port!.postMessage(message)
}

function fatal(err: unknown): void {
  const e = err instanceof Error ? err : new Error(String(err))
  send({ type: 'fatal', message: e.message, stack: userStack(e) })
}

/**
 * `process.exit()` in a worker thread would end the thread, cutting every user's run and the
 * snapshot not yet sent: test code gets an error instead (recorded as its run's error).
 */
class ProcessExitError extends Error {
  readonly kind = 'ProcessExit'
  constructor(code: unknown) {
    super(`process.exit(${code === undefined ? '' : String(code)}) called by test code: refused (a load test's worker must not end; throw an error or use an assertion instead)`)
    this.name = 'ProcessExitError'
  }
}

async function start(): Promise<void> {
  process.setSourceMapsEnabled(true)
  installApi()
  process.exit = ((code?: unknown) => {
    throw new ProcessExitError(code)
  }) as typeof process.exit
  // The engine reads the beat: a worker stuck in synchronous code stops bumping it.
  const pulse = new WorkerPulse(init.config.tests.length, init.pulse)
  setInterval(() => pulse.beat(), PULSE_MS).unref()
  const recorder = new Recorder({ source: init.source })
  // -e / --env-file: this thread's copy of process.env, before the test module's top level runs.
  if (init.config.env !== undefined) Object.assign(process.env, init.config.env)
  // An error no test run catches (a callback's throw, a promise nobody awaits) ends the worker, as
  // it would end Node: first what was recorded leaves, then the cause; the engine ends the thread.
  const crash = (err: unknown, what: string): void => {
    const e = err instanceof Error ? err : new Error(String(err))
    send({ type: 'snapshot', snapshot: recorder.snapshot(false) })
    send({ type: 'crashed', message: `${what}: ${e.message}`, stack: userStack(e), cut: pulse.inFlight() })
    // Nothing more runs here (no hit the snapshot above misses, no run ends after being counted
    // as cut) until the engine, told, ends the thread.
    const frozen = new Int32Array(new SharedArrayBuffer(4))
    for (;;) Atomics.wait(frozen, 0, 0, 50)
  }
  process.on('uncaughtException', (err) => crash(err, 'an uncaught exception'))
  process.on('unhandledRejection', (err) => crash(err, 'an unhandled promise rejection'))
  let engine: WorkerEngine | undefined
  try {
    const exports = await importBundle(init.bundleFile)
    engine = new WorkerEngine(init.config, exports, recorder, init.dataCounter, pulse, path.dirname(init.bundleFile))
    await engine.setUpClasses()
  } catch (err) {
    fatal(err)
    return
  }
  // This thread's health as a generator rides along with each snapshot (docs/generator-health.md).
  const probe = new GeneratorProbe(init.source)
  const snapshot = (final: boolean): Snapshot => {
    const snap = recorder.snapshot(final)
    snap.generator = probe.sample()
    return snap
  }
  // On the wall clock's whole intervals: every worker of every agent snapshots at the same instants,
  // from the first step on — the run's clock starts there, not while workers load (the test
  // module, `--data` parsing, setUpClass), which can take seconds.
  let timer: AlignedTimer | undefined

  port!.on('message', (message: ToWorker) => {
    switch (message.type) {
      case 'step':
        if (timer === undefined) {
          recorder.restartClock()
          timer = everyAligned(init.config.snapshotIntervalMs, () => send({ type: 'snapshot', snapshot: snapshot(false) }))
        }
        engine!.runStep(message.step).then(
          () => send({ type: 'step-done', index: message.step.index }),
          (err: unknown) => fatal(err),
        )
        break
      case 'stop':
        engine!.stop()
        break
      case 'control':
        engine!.control(message.change)
        // Said at once, not with the next snapshot: the page says "Pausing…" until every worker has.
        if (message.seq !== undefined) send({ type: 'applied', seq: message.seq })
        break
      case 'finish':
        timer?.stop()
        void engine!.tearDownClasses().finally(async () => {
          send({ type: 'snapshot', snapshot: snapshot(true) })
          probe.stop()
          // The engine ends this thread once it hears `finished`: console output still waiting in
          // this thread's stdio streams (each chunk waits for the runner's word that the last one
          // arrived) would be lost with it — a test's last lines, a tearDownClass's words.
          await drainStdio()
          send({ type: 'finished' })
          port!.close()
        })
        break
    }
  })
  send({ type: 'ready' })
}

/** Resolves once everything written to stdout and stderr has reached the runner's thread (at most 5 s). */
function drainStdio(): Promise<void> {
  const drained = (stream: NodeJS.WriteStream): Promise<void> => new Promise((resolve) => stream.write('', () => resolve()))
  let timer: NodeJS.Timeout | undefined
  const bound = new Promise<void>((resolve) => (timer = setTimeout(resolve, 5000)))
  return Promise.race([Promise.all([drained(process.stdout), drained(process.stderr)]).then(() => undefined), bound]).finally(() => clearTimeout(timer))
}

void start()
