import { describe, expect, it } from 'vitest'
import { LOADS_RUNNER, runBin, tempProject, testResult } from '../helpers/cli.js'

/**
 * A worker thread's console output reaches the runner's through Node's stdio port, a chunk at a
 * time, each waiting for the runner's word that it arrived: lines written just before a run ends
 * sat in the worker when it was ended, and were lost (CI, 2026-12-03: a test's second of two
 * lines missing). The worker now waits for its stdout and stderr to drain before it says finished.
 */
const FILES = {
  'chatty.ts': `
import { TestCase } from 'loads-runner'
export class Chatty extends TestCase {
  async test_talks() {
    console.log('from the run')
  }
  // The worker's last words: tearDownClass runs as the worker finishes, right before the runner ends it.
  static tearDownClass() {
    for (let i = 0; i < 20000; i++) console.log('out line ' + i)
    for (let i = 0; i < 20000; i++) console.error('err line ' + i)
  }
}
`,
}

describe("a worker thread's console output", () => {
  it('reaches the runner whole, to the last line, when the worker ends right after it (tearDownClass)', async () => {
    const dir = tempProject(FILES)
    const r = await runBin(LOADS_RUNNER, ['chatty.Chatty', '-u', '1', '-c', '1', '-w', '1', '-q'], { cwd: dir })
    expect(r.code, r.stderr).toBe(0)
    expect(testResult(r.stdout)).toEqual({ run: 1, errors: 0, failures: 0 })
    expect(r.stdout).toContain('from the run\n')
    expect(r.stdout.split('\n').filter((l) => l.startsWith('out line ')).length).toBe(20000)
    expect(r.stderr.split('\n').filter((l) => l.startsWith('err line ')).length).toBe(20000)
    expect(r.stdout).toContain('out line 19999\n')
    expect(r.stderr).toContain('err line 19999\n')
  })
})
