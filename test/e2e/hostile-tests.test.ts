import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { rmSync } from 'node:fs'
import { startCountingServer, type CountingServer } from '../helpers/counting-server.js'
import { LOADS_RUNNER, runBin, tempProject, testResult, type CliResult } from '../helpers/cli.js'
import { HOSTILE_TESTS } from '../helpers/hostile-tests.js'
import { STOP_GRACE_MS } from '../../src/runner/local-engine.js'

// Hostile test code: it spins, exits, rejects into the void, eats the heap, hangs in tearDown.
// Each case asserts the exit code, the summary, and the server's own count equal to the hits.
// The users that misbehave first wait past a snapshot (--snapshot-interval 200ms), so everything
// they recorded before had left their worker: what a dead worker loses is only its last interval.
const FILES = { 'hostile.ts': HOSTILE_TESTS }

function hits(stdout: string): number {
  const m = /^Hits: (\d+)/m.exec(stdout)
  if (!m) throw new Error(`no Hits line in:\n${stdout}`)
  return Number(m[1])
}

describe('hostile test code never hangs the run nor loses what was recorded', () => {
  let dir: string
  let server: CountingServer
  beforeAll(async () => {
    dir = tempProject(FILES)
    server = await startCountingServer()
  })
  afterAll(async () => {
    await server.close()
    rmSync(dir, { recursive: true, force: true })
  })

  async function run(args: string[], env: Record<string, string> = {}): Promise<CliResult & { count: number }> {
    const before = server.count
    const r = await runBin(LOADS_RUNNER, [...args, '-q', '--snapshot-interval', '200ms'], { cwd: dir, env: { TARGET: server.url, ...env }, timeoutMs: 40_000 })
    return { ...r, count: server.count - before }
  }

  /**
   * The run ended with exit 1 (errors, not a crash of Loads), its TestResult line is `result`,
   * its output says each of `says`, and nothing it recorded was lost or made up: the summary's
   * hits and the server's own count are both `hits`.
   */
  function expectEnded(r: CliResult & { count: number }, expected: { result?: ReturnType<typeof testResult>; says: (string | RegExp)[]; hits: number }): void {
    expect(r.code, r.stderr).toBe(1)
    if (expected.result !== undefined) expect(testResult(r.stdout)).toEqual(expected.result)
    for (const text of expected.says) {
      if (typeof text === 'string') expect(r.stdout).toContain(text)
      else expect(r.stdout).toMatch(text)
    }
    expect(hits(r.stdout)).toBe(expected.hits)
    expect(r.count).toBe(expected.hits)
  }

  it('a worker stuck in a synchronous loop is ended; the other worker finishes; its cut run is a WorkerStuck error', async () => {
    // Two workers, one user each: worker-0's user spins at its 3rd run, worker-1's runs all 20.
    const r = await run(['hostile.ts:SpinOnce', '-u', '2', '-w', '2', '-c', '20', '--test-timeout', '1s'], {})
    expect(r.code, r.stderr).toBe(1)
    expect(r.stdout).toMatch(/worker-\d was stuck in synchronous code for 5 s/)
    expect(r.stdout).toContain('WorkerStuck')
    expect(hits(r.stdout)).toBe(r.count)
    // The spinning run is cut (1 error); of the 40 planned runs the spinning user never ran the rest.
    const result = testResult(r.stdout)!
    expect(result.errors).toBe(1)
    expect(r.count).toBeGreaterThanOrEqual(3 + 20 - 1)
  })

  it('process.exit() in a test is refused: an error of kind ProcessExit, and the run goes on', async () => {
    const r = await run(['hostile.ts:Exit', '-u', '1', '-c', '6'])
    expectEnded(r, { result: { run: 6, errors: 3, failures: 0 }, says: ['ProcessExit'], hits: 6 })
  })

  it('an unhandled rejection ends the worker with its cause; what it recorded is kept; exit 1, not 2', async () => {
    const r = await run(['hostile.ts:Reject', '-u', '1', '-c', '10'])
    expectEnded(r, { result: { run: 3, errors: 1, failures: 0 }, says: [/worker-0 crashed on an unhandled promise rejection: nobody awaits me/], hits: 3 })
  })

  it('a worker out of heap is ended with a clear cause; what it recorded is kept; exit 1', async () => {
    const r = await run(['hostile.ts:Heap', '-u', '1', '-c', '10', '--worker-heap', '64'])
    expectEnded(r, { says: [/worker-0 ran out of memory \(--worker-heap 64\)/, 'WorkerOutOfMemory'], hits: 3 })
  })

  it('a tearDown that never settles is cut off by --test-timeout, run by run', async () => {
    const r = await run(['hostile.ts:HangingTearDown', '-u', '2', '-c', '2', '--test-timeout', '300ms'])
    expectEnded(r, { result: { run: 4, errors: 4, failures: 0 }, says: ["HangingTearDown.test_get's tearDown did not settle within 300 ms"], hits: 4 })
  })

  it('a setUp that never settles is cut off by --test-timeout, and the test is not run', async () => {
    const r = await run(['hostile.ts:HangingSetUp', '-u', '1', '-c', '2', '--test-timeout', '300ms'])
    expectEnded(r, { result: { run: 2, errors: 2, failures: 0 }, says: ["HangingSetUp.test_get's setUp did not settle within 300 ms"], hits: 0 })
  })

  it('a tearDownClass that never settles is cut off after 10 s and recorded; the run ends with its summary', async () => {
    const r = await run(['hostile.ts:HangingTearDownClass', '-u', '1', '-c', '2'])
    expectEnded(r, { says: ['HangingTearDownClass.tearDownClass did not settle within 10000 ms'], hits: 2 })
  })

  it('Ctrl-C while a worker spins: the summary once the spinning worker is ended, exit 130, hits equal the server count', async () => {
    let pid = 0
    let sentAt = 0
    const before = server.count
    const r = await runBin(LOADS_RUNNER, ['hostile.ts:SpinOnce', '-u', '2', '-w', '2', '-d', '60s', '--snapshot-interval', '200ms'], {
      cwd: dir,
      env: { TARGET: server.url },
      timeoutMs: 40_000,
      onSpawn: (p) => {
        pid = p
        // Past the spinning user's 3 runs and its 600 ms pause: worker-0 spins, worker-1 loops.
        const poll = setInterval(() => {
          if (server.count - before < 3) return
          clearInterval(poll)
          setTimeout(() => {
            sentAt = Date.now()
            process.kill(pid, 'SIGINT')
          }, 1500)
        }, 20)
      },
    })
    const tookMs = Date.now() - sentAt
    expect(sentAt).toBeGreaterThan(0)
    expect(r.code, r.stderr).toBe(130)
    // The spinning worker is ended STOP_GRACE_MS (3 s) after the stop; quiet, the summary follows
    // within 5 s of the signal (docs/reliability.md). A machine at load 30 may take seconds more to
    // end a worker and print; a runner that waited on the spin (or on -d 60s) would never be done.
    expect(tookMs).toBeLessThan(STOP_GRACE_MS + 7000)
    expect(r.stdout).toContain('<TestResult run=')
    expect(hits(r.stdout)).toBe(server.count - before)
  })
})
