/**
 * The entry point of a worker thread: loads the test bundle, runs the steps it is sent, and
 * streams snapshots to its coordinator every interval and a final one at the end.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { importBundle } from '../case/bundle.js'
import { installApi } from '../case/api.js'
import { userStack } from '../case/stack.js'
import { WorkerEngine } from '../load/worker-engine.js'
import { Recorder } from '../stats/recorder.js'
import { everyAligned } from '../util/aligned-timer.js'
import type { FromWorker, ToWorker, WorkerInit } from './worker-messages.js'

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

async function start(): Promise<void> {
  process.setSourceMapsEnabled(true)
  installApi()
  const recorder = new Recorder({ source: init.source })
  let engine: WorkerEngine
  try {
    const exports = await importBundle(init.bundleFile)
    engine = new WorkerEngine(init.config, exports, recorder, init.dataCounter)
    await engine.setUpClasses()
  } catch (err) {
    fatal(err)
    return
  }
  // On the wall clock's whole intervals: every worker of every agent snapshots at the same instants.
  const timer = everyAligned(init.config.snapshotIntervalMs, () => send({ type: 'snapshot', snapshot: recorder.snapshot(false) }))

  port!.on('message', (message: ToWorker) => {
    switch (message.type) {
      case 'step':
        engine.runStep(message.step).then(
          () => send({ type: 'step-done', index: message.step.index }),
          (err: unknown) => fatal(err),
        )
        break
      case 'stop':
        engine.stop()
        break
      case 'finish':
        timer.stop()
        void engine.tearDownClasses().finally(() => {
          send({ type: 'snapshot', snapshot: recorder.snapshot(true) })
          send({ type: 'finished' })
          port!.close()
        })
        break
    }
  })
  send({ type: 'ready' })
}

void start()
