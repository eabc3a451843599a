/**
 * Hostile test code, as a test module's source: it spins, exits, rejects into the void, eats the
 * heap, hangs in setUp, tearDown or tearDownClass. The users that misbehave first wait past a
 * snapshot (run with --snapshot-interval 200ms), so everything they recorded before had left their
 * worker. Each class GETs its server's '/' ($TARGET) first. Run locally (e2e/hostile-tests) and on
 * an agent (cluster/agent-hostile).
 */
export const HOSTILE_TESTS = `
import { threadId } from 'node:worker_threads'
import { TestCase } from 'loads-runner'
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms))
let runs = 0
export class SpinOnce extends TestCase {
  static serverUrl = process.env.TARGET
  async test_get() {
    await this.session.get('/')
    // The first worker thread only (of a runner, or of an agent): the other one goes on.
    if (threadId === 1 && ++runs === 3) {
      await pause(600)
      for (;;) {}
    }
  }
}
export class Exit extends TestCase {
  static serverUrl = process.env.TARGET
  async test_get() {
    await this.session.get('/')
    if (++runs % 2 === 0) process.exit(0)
  }
}
export class Reject extends TestCase {
  static serverUrl = process.env.TARGET
  async test_get() {
    await this.session.get('/')
    if (++runs === 3) {
      await pause(600)
      void Promise.reject(new Error('nobody awaits me'))
      await pause(1000)
    }
  }
}
export class Heap extends TestCase {
  static serverUrl = process.env.TARGET
  async test_get() {
    await this.session.get('/')
    if (++runs === 3) {
      await pause(600)
      const keep: number[][] = []
      for (;;) keep.push(new Array(100_000).fill(runs))
    }
  }
}
export class HangingTearDown extends TestCase {
  static serverUrl = process.env.TARGET
  async test_get() { await this.session.get('/') }
  async tearDown() { await new Promise(() => {}) }
}
export class HangingSetUp extends TestCase {
  static serverUrl = process.env.TARGET
  async setUp() { await new Promise(() => {}) }
  async test_get() { await this.session.get('/') }
}
export class HangingTearDownClass extends TestCase {
  static serverUrl = process.env.TARGET
  static async tearDownClass() { await new Promise(() => {}) }
  async test_get() { await this.session.get('/') }
}
`
