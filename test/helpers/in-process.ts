/**
 * For tests that run the built CLI in-process (`runCli([...], io)`): a TestCase that proves where
 * its worker's env came from, a shell fed its lines, and sinks that collect the CLI's output.
 */
import { Readable, Writable } from 'node:stream'
import { expect } from 'vitest'
import { runCli } from '../../dist/cli/main.js'
import { reportedHits } from './agents.js'
import { tempProject, testResult } from './cli.js'
import type { CountingServer } from './counting-server.js'

/**
 * A test file (`env.ts`) whose runs check that `LOADS_IN_PROCESS_MARK` is `mark` in process.env
 * and that `-e LOADS_IN_PROCESS_OVER=from -e` reached `this.env`, then GET $TARGET/env.
 */
export function envTestSource(mark: string): string {
  return `import { TestCase } from 'loads-runner'
export class Env extends TestCase {
  async test_env() {
    this.assertEqual(process.env.LOADS_IN_PROCESS_MARK, ${JSON.stringify(mark)})
    this.assertEqual(this.env.LOADS_IN_PROCESS_OVER, 'from -e')
    const res = await this.session.get(process.env.TARGET + '/env')
    this.assertEqual(res.status, 200)
  }
}
`
}

/** What the CLI wrote, and the `stdout` / `stderr` of a CliIO that writes there. */
export function collectOutput(): { output: { stdout: string; stderr: string }; stdout: Writable; stderr: Writable } {
  const output = { stdout: '', stderr: '' }
  const sink = (key: 'stdout' | 'stderr'): Writable => new Writable({ write: (chunk: Buffer, _enc, cb) => ((output[key] += chunk.toString()), cb()) })
  return { output, stdout: sink('stdout'), stderr: sink('stderr') }
}

/**
 * Runs `envTestSource(mark)`'s test in-process through the built CLI, 2 users × 5 runs, `args`
 * added (workers, agents) and `-e LOADS_IN_PROCESS_OVER=from -e`, with `env` as the CLI's env.
 */
export async function runEnvTest(mark: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; output: { stdout: string; stderr: string } }> {
  const cwd = tempProject({ 'env.ts': envTestSource(mark) })
  const { output, stdout, stderr } = collectOutput()
  const code = await runCli(['run', 'env.ts:Env.test_env', '-u', '2', '-c', '5', ...args, '-e', 'LOADS_IN_PROCESS_OVER=from -e'], { stdout, stderr, isTTY: false, cwd, env, signal: new AbortController().signal })
  return { code, output }
}

/**
 * `loads shell` in-process through the built CLI, `args` added (`--server-url`), `lines` as its
 * piped input (the shell ends at their end), with `env` as the CLI's env.
 */
export async function runShellLines(lines: string[], args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; output: { stdout: string; stderr: string } }> {
  const cwd = tempProject({})
  const { output, stdout, stderr } = collectOutput()
  const stdin = Readable.from([lines.map((line) => `${line}\n`).join('')])
  const code = await runCli(['shell', ...args], { stdin, stdout, stderr, isTTY: false, cwd, env, signal: new AbortController().signal })
  return { code, output }
}

/**
 * A run of `envTestSource`'s test, 2 users × 5 runs, went through: exit 0, the target heard the 10
 * GETs of /env, and the CLI reported 10 hits and 10 passed runs. `all`: the text shown on failure.
 */
export function expectTenEnvRuns(code: number, output: { stdout: string }, target: CountingServer, all: string): void {
  // Before the fix: every run failed its first assertion (undefined), and the target heard nothing.
  expect(code, all).toBe(0)
  expect(target.count).toBe(10)
  expect(target.countByPath.get('/env')).toBe(10)
  expect(reportedHits(output.stdout), all).toBe(10)
  expect(testResult(output.stdout), all).toEqual({ run: 10, errors: 0, failures: 0 })
}
