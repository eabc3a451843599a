/**
 * The CLI run in-process (`runCli([...], { cwd })`, as tests and embedders call it): relative
 * `--output` and `--report` paths are relative to the CLI's cwd, as every other path it takes,
 * not to `process.cwd()`. A cluster run (a real nats-server and a real agent), because a local
 * run's workers cannot start from the TypeScript sources vitest imports; the outputs are the
 * runner's, the same for both modes (src/cli/report-options.ts).
 * Real `loads-runner` processes writing relative to where they run: test/e2e/report-outputs.test.ts.
 */
import { randomUUID } from 'node:crypto'
import { existsSync, readFileSync, rmSync } from 'node:fs'
import path from 'node:path'
import { Writable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli } from '../../src/cli/main.js'
import type { RunResult } from '../../src/report/result.js'
import { clusterEnv, idle, reportedHits, startAgent, waitForAgents, type AgentProcess, SITE_TEST } from '../helpers/agents.js'
import { tempProject } from '../helpers/cli.js'
import { startCountingServer, type CountingServer } from '../helpers/counting-server.js'
import { startNatsServer, type NatsServer } from '../helpers/nats-server.js'


let nats: NatsServer
let target: CountingServer
let agent: AgentProcess
let env: NodeJS.ProcessEnv
beforeAll(async () => {
  ;[nats, target] = await Promise.all([startNatsServer(), startCountingServer()])
  env = clusterEnv(nats)
  agent = startAgent(env)
  await waitForAgents(nats, idle([agent]), 90_000)
}, 120_000)
afterAll(async () => {
  await agent?.kill('SIGTERM')
  await Promise.all([nats?.stop(), target?.close()])
})

describe('the CLI in-process, with a cwd of its own', () => {
  it("writes relative --output and --report paths in its cwd, not in the process's", async () => {
    // The CLI's cwd: a temp dir, removed after the test. The outputs go in a folder of a name
    // nobody else uses, so that one in process.cwd() could only be this run's (removed below).
    const cwd = tempProject({ 'site.ts': SITE_TEST })
    const sub = `out-${randomUUID()}`
    const strayed = path.join(process.cwd(), sub)
    const output = { stdout: '', stderr: '' }
    const sink = (key: 'stdout' | 'stderr'): Writable => new Writable({ write: (chunk: Buffer, _enc, cb) => ((output[key] += chunk.toString()), cb()) })
    try {
      const code = await runCli(
        ['run', 'site.ts:Site.test_hit', '-u', '2', '-c', '5', '--agents', '1', '--server-url', target.url, '--output', `json:${sub}/r.json`, '--output', `csv:${sub}/r.csv`, '--report', `${sub}/r.html`],
        { stdout: sink('stdout'), stderr: sink('stderr'), isTTY: false, cwd, env, signal: new AbortController().signal },
      )
      const all = output.stdout + output.stderr
      expect(code, all).toBe(0)
      expect(target.count).toBe(10)
      expect(reportedHits(output.stdout)).toBe(10)
      // Said as given, written in the CLI's cwd.
      expect(output.stderr.split('\n').filter((l) => l.startsWith('--'))).toEqual([
        `--output json:${sub}/r.json: wrote ${sub}/r.json`,
        `--output csv:${sub}/r.csv: wrote ${sub}/r.csv`,
        `--output csv:${sub}/r.csv: wrote ${sub}/r.series.csv`,
        `--output csv:${sub}/r.csv: wrote ${sub}/r.details.csv`,
        `--report ${sub}/r.html: wrote ${sub}/r.html`,
      ])
      const json = JSON.parse(readFileSync(path.join(cwd, sub, 'r.json'), 'utf8')) as RunResult
      expect(json.run.mode).toBe('cluster')
      expect(json.summary.hits).toBe(10)
      expect(readFileSync(path.join(cwd, sub, 'r.csv'), 'utf8').split('\r\n')[1]).toMatch(/^GET,\/,10,/)
      for (const f of ['r.series.csv', 'r.details.csv']) expect(existsSync(path.join(cwd, sub, f)), f).toBe(true)
      expect(readFileSync(path.join(cwd, sub, 'r.html'), 'utf8')).toMatch(/^<!doctype html>/)
      // Before: all five were in process.cwd() (the repository, under vitest), none in the CLI's.
      expect(existsSync(strayed)).toBe(false)
    } finally {
      rmSync(strayed, { recursive: true, force: true })
    }
  }, 120_000)
})
