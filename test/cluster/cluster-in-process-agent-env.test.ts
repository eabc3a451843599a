/**
 * A cluster agent run in-process (`runCli(['agent', …], { env })`, as tests and embedders call
 * it): its worker threads start from the CLI's `env`, not from `process.env`, as a local run's do
 * (test/e2e/in-process-env.test.ts); a run's `-e` still goes over it. A real `loads-agent` process
 * is unchanged: its `io.env` is `process.env`.
 *
 * The agent and the runner both come from dist/ (built by `npm test`'s pretest, as the e2e tests'
 * `loads-runner`): the agent's workers cannot start from the TypeScript sources vitest imports.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli } from '../../dist/cli/main.js'
import { clusterEnv, waitForAgents } from '../helpers/agents.js'
import { tempProject } from '../helpers/cli.js'
import { startCountingServer, type CountingServer } from '../helpers/counting-server.js'
import { collectOutput, expectTenEnvRuns, runEnvTest } from '../helpers/in-process.js'
import { startNatsServer, type NatsServer } from '../helpers/nats-server.js'

let nats: NatsServer
let target: CountingServer
beforeAll(async () => {
  ;[nats, target] = await Promise.all([startNatsServer(), startCountingServer()])
}, 60_000)
afterAll(async () => {
  await Promise.all([nats?.stop(), target?.close()])
})

describe('a cluster agent of the CLI in-process', () => {
  it("gives its workers the CLI's env, not the process's; -e goes over it", async () => {
    // Set only in the agent CLI's env: a worker that saw process.env would not see them.
    for (const name of ['TARGET', 'LOADS_IN_PROCESS_MARK', 'LOADS_IN_PROCESS_OVER']) expect(process.env[name], name).toBeUndefined()
    const env = clusterEnv(nats)
    const agentEnv = { ...process.env, ...env, TARGET: target.url, LOADS_IN_PROCESS_MARK: 'from the agent CLI env', LOADS_IN_PROCESS_OVER: 'from the agent CLI env' }
    const { output: agentOutput, stdout: agentStdout, stderr: agentStderr } = collectOutput()
    const stopAgent = new AbortController()
    const agent = runCli(['agent', '--workers', '2'], { stdout: agentStdout, stderr: agentStderr, isTTY: false, cwd: tempProject({}), env: agentEnv, signal: stopAgent.signal })
    try {
      await waitForAgents(nats, (found) => found.some((a) => a.pid === process.pid && a.state === 'idle'), 30_000)
      // The runner's env has none of the three: the agent's workers can only have them from the agent's.
      const { code, output } = await runEnvTest('from the agent CLI env', ['--agents', '1'], env)
      const all = `${output.stdout}${output.stderr}\n--- agent:\n${agentOutput.stderr}`
      expectTenEnvRuns(code, output, target, all)
      // Two worker threads ran them, the agent's own.
      expect(agentOutput.stderr, all).toMatch(/^\S+ run \S+: env\.ts: Env\.test_env, 2 workers$/m)
    } finally {
      stopAgent.abort()
      expect(await agent).toBe(0)
    }
  }, 60_000)
})
