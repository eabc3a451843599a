/**
 * The CLI run in-process (`runCli([...], { env })`, as tests and embedders call it): a local run's
 * worker threads start from the CLI's `env`, not from `process.env`, as every other variable the
 * CLI reads comes from `CliIO.env`; `-e` still goes over it. A real `loads-runner` process is
 * unchanged: its `io.env` is `process.env`.
 *
 * The CLI comes from dist/ (built by `npm test`'s pretest, as the e2e tests' `loads-runner`): a
 * local run's workers cannot start from the TypeScript sources vitest imports.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startCountingServer, type CountingServer } from '../helpers/counting-server.js'
import { expectTenEnvRuns, runEnvTest } from '../helpers/in-process.js'

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
    const { code, output } = await runEnvTest('from the CLI env', ['-w', '2'], env)
    const all = output.stdout + output.stderr
    expectTenEnvRuns(code, output, target, all)
  }, 60_000)
})
