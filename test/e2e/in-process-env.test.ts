/**
 * The CLI run in-process (`runCli([...], { env })`, as tests and embedders call it): a local run's
 * worker threads start from the CLI's `env`, not from `process.env`, as every other variable the
 * CLI reads comes from `CliIO.env`; `-e` still goes over it. A real `loads-runner` process is
 * unchanged: its `io.env` is `process.env`. So is `loads shell`'s `.run`.
 *
 * The CLI comes from dist/ (built by `npm test`'s pretest, as the e2e tests' `loads-runner`): a
 * local run's workers cannot start from the TypeScript sources vitest imports.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startCountingServer, type CountingServer } from '../helpers/counting-server.js'
import { reportedHits } from '../helpers/agents.js'
import { testResult } from '../helpers/cli.js'
import { expectTenEnvRuns, runEnvTest, runShellLines } from '../helpers/in-process.js'

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

describe("loads shell's .run in-process", () => {
  it("gives its workers the CLI's env, not the process's: LOADS_HTTP1=undici there makes each HEAD a connection of its own", async () => {
    // The test the shell writes replays its requests and reads no env of its own: what shows the
    // workers' env is the HTTP/1.1 client it picks. Loads' client keeps a user's connection after a
    // HEAD; undici (LOADS_HTTP1=undici) closes it after every HEAD (docs/http-client.md).
    expect(process.env.LOADS_HTTP1).toBeUndefined()
    const server = await startCountingServer()
    try {
      const env = { ...process.env, LOADS_HTTP1: 'undici', LOADS_HISTORY: '' }
      const { code, output } = await runShellLines(['head /hello', '.run -u 2 -c 3 -w 2', '.exit'], ['--server-url', server.url], env)
      const all = output.stdout + output.stderr
      expect(code, all).toBe(0)
      expect(testResult(output.stdout), all).toEqual({ run: 6, errors: 0, failures: 0 })
      expect(reportedHits(output.stdout), all).toBe(6)
      expect(output.stdout, all).toContain('.run: exit code 0 (every run passed)')
      // The shell's own HEAD (this process's env: Loads' client), then 2 users × 3 runs.
      expect(server.count).toBe(7)
      expect(server.countByPath.get('/hello')).toBe(7)
      expect(server.received.map((r) => r.method)).toEqual(Array(7).fill('HEAD'))
      // One connection for the shell's HEAD, and one per replayed HEAD: the workers ran undici.
      // Before the fix they started from process.env, Loads' client: one connection per user (3).
      expect(server.connections).toBe(7)
    } finally {
      await server.close()
    }
  }, 60_000)
})
