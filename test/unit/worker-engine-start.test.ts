import { describe, expect, it } from 'vitest'
import { TestCase } from '../../src/case/test-case.js'
import { WorkerEngine } from '../../src/load/worker-engine.js'
import { Recorder } from '../../src/stats/recorder.js'

const events: string[] = []

class Starts extends TestCase {
  async test_start(): Promise<void> {
    events.push('start')
    // Stands for the first user's I/O (its connect, its request going out): it needs a turn of
    // the event loop.
    if (events.length === 1) setImmediate(() => events.push('turn'))
  }
}

describe('WorkerEngine: users without a ramp-up', () => {
  it('start one event-loop turn apart: the first user is not held up by the set-up of all the others', async () => {
    events.length = 0
    const config = { tests: [{ className: 'Starts', methodName: 'test_start' }], timeoutMs: 5000, testTimeoutMs: 5000, insecure: false, snapshotIntervalMs: 1000 }
    const recorder = new Recorder({ source: 'test' })
    const engine = new WorkerEngine(config, { Starts }, recorder)
    await engine.runStep({ index: 0, users: 4, hits: 1 })
    expect(events).toEqual(['start', 'turn', 'start', 'start', 'start'])
    expect(recorder.snapshot().tests).toEqual({ run: 4, failures: 0, errors: 0 })
  })
})
