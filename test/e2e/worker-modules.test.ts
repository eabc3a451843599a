import { describe, expect, it } from 'vitest'
import { LOADS_RUNNER, runBin, tempProject, testResult } from '../helpers/cli.js'

/**
 * What a worker thread carries and what it leaves behind: its heap holds only what workers need
 * (the heavy modules only the runner needs stay out: every worker's collector walks them in every
 * run), and its console output reaches the runner whole, to the last line.
 */
const FILES = {
  'modules.ts': `
import { createRequire } from 'node:module'
import { TestCase } from 'loads-runner'
export class Modules extends TestCase {
  async test_loaded() {
    const cjs = Object.keys(createRequire(import.meta.url).cache)
    const builtins: string[] = (process as unknown as { moduleLoadList: string[] }).moduleLoadList
    console.log('esbuild:', cjs.filter((f) => f.includes('/node_modules/esbuild/')).length)
    console.log('child_process:', builtins.filter((m) => m === 'NativeModule child_process').length)
  }
}
`,
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

/** One run of `spec` by one user in one worker: it passes; its output. */
async function runOnce(spec: string): Promise<{ stdout: string; stderr: string }> {
  const r = await runBin(LOADS_RUNNER, [spec, '-u', '1', '-c', '1', '-w', '1', '-q'], { cwd: tempProject(FILES) })
  expect(r.code, r.stderr).toBe(0)
  expect(testResult(r.stdout)).toEqual({ run: 1, errors: 0, failures: 0 })
  return r
}

describe('a worker thread', () => {
  it('does not load esbuild (the runner bundles the test; workers only import it) nor, through it, child_process', async () => {
    const { stdout } = await runOnce('modules.Modules')
    expect(stdout).toContain('esbuild: 0\n')
    expect(stdout).toContain('child_process: 0\n')
  })

  /*
   * Its console output goes to the runner a chunk at a time, each waiting for the runner's word
   * that the last arrived; the runner ends the thread once it says finished. Lines written just
   * before were lost with it (CI, 2026-12-03: this file's second line; 1 of 20,000 below): the
   * worker now waits for stdout and stderr to drain first.
   */
  it('gets its console output to the runner whole, to the last line, when it ends right after writing it (tearDownClass)', async () => {
    const { stdout, stderr } = await runOnce('chatty.Chatty')
    expect(stdout).toContain('from the run\n')
    expect(stdout.split('\n').filter((l) => l.startsWith('out line ')).length).toBe(20000)
    expect(stderr.split('\n').filter((l) => l.startsWith('err line ')).length).toBe(20000)
    expect(stdout).toContain('out line 19999\n')
    expect(stderr).toContain('err line 19999\n')
  })
})
