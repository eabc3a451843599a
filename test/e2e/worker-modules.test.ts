import { describe, expect, it } from 'vitest'
import { LOADS_RUNNER, runBin, tempProject, testResult } from '../helpers/cli.js'

/**
 * What a worker thread loads is what every worker's heap carries and its collector walks, in
 * every run: the test asserts the heavy modules only the runner needs stay out of it.
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
}

describe("a worker thread's modules", () => {
  it("do not include esbuild (the runner bundles the test; workers only import it) nor, through it, child_process", async () => {
    const dir = tempProject(FILES)
    const r = await runBin(LOADS_RUNNER, ['modules.Modules', '-u', '1', '-c', '1', '-w', '1', '-q'], { cwd: dir })
    expect(r.code, r.stderr).toBe(0)
    expect(testResult(r.stdout)).toEqual({ run: 1, errors: 0, failures: 0 })
    expect(r.stdout).toContain('esbuild: 0\n')
    expect(r.stdout).toContain('child_process: 0\n')
  })
})
