/**
 * The CLI run in-process (`runCli([...], { env })`, as tests and embedders call it): a local run's
 * worker threads start from the CLI's `env`, not from `process.env`, as every other variable the
 * CLI reads comes from `CliIO.env`; `-e` still goes over it. A real `loads-runner` process is
 * unchanged: its `io.env` is `process.env`.
 *
 * The CLI comes from dist/ (built by `npm test`'s pretest, as the e2e tests' `loads-runner`): a
 * local run's workers cannot start from the TypeScript sources vitest imports.
 */
import { Writable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli } from '../../dist/cli/main.js'
import { reportedHits } from '../helpers/agents.js'
import { tempProject, testResult } from '../helpers/cli.js'
import { startCountingServer, type CountingServer } from '../helpers/counting-server.js'

/** Each run GETs $TARGET/env, once it has checked the two variables it is given. */
const ENV_TEST = `import { TestCase } from 'loads-runner'
export class Env extends TestCase {
  async test_env() {
    this.assertEqual(process.env.LOADS_IN_PROCESS_MARK, 'from the CLI env')
    this.assertEqual(this.env.LOADS_IN_PROCESS_OVER, 'from -e')
    const res = await this.session.get(process.env.TARGET + '/env')
    this.assertEqual(res.status, 200)
  }
}
`

let target: CountingServer
beforeAll(async () => {
  target = await startCountingServer()
})
afterAll(async () => {
  await target?.close()
})

describe('a local run of the CLI in-process', () => {
  it("gives its workers the CLI's env, not the process's; -e goes over it", async () => {
    // Set only in the CLI's env: a worker that saw process.env would not see them.
    for (const name of ['TARGET', 'LOADS_IN_PROCESS_MARK', 'LOADS_IN_PROCESS_OVER']) expect(process.env[name], name).toBeUndefined()
    const env = { ...process.env, TARGET: target.url, LOADS_IN_PROCESS_MARK: 'from the CLI env', LOADS_IN_PROCESS_OVER: 'from the CLI env' }
    const cwd = tempProject({ 'env.ts': ENV_TEST })
    const output = { stdout: '', stderr: '' }
    const sink = (key: 'stdout' | 'stderr'): Writable => new Writable({ write: (chunk: Buffer, _enc, cb) => ((output[key] += chunk.toString()), cb()) })
    const code = await runCli(['run', 'env.ts:Env.test_env', '-u', '2', '-c', '5', '-w', '2', '-e', 'LOADS_IN_PROCESS_OVER=from -e'], {
      stdout: sink('stdout'),
      stderr: sink('stderr'),
      isTTY: false,
      cwd,
      env,
      signal: new AbortController().signal,
    })
    const all = output.stdout + output.stderr
    // Before: every run failed its first assertion (undefined), and the target heard nothing.
    expect(code, all).toBe(0)
    expect(target.count).toBe(10)
    expect(target.countByPath.get('/env')).toBe(10)
    expect(reportedHits(output.stdout), all).toBe(10)
    expect(testResult(output.stdout), all).toEqual({ run: 10, errors: 0, failures: 0 })
  }, 60_000)
})
