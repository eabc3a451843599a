import { createServer, type Server } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startCountingServer, type CountingServer } from '../helpers/counting-server.js'
import { LOADS_RUNNER, runBin, tempProject, testResult } from '../helpers/cli.js'

const FILES = {
  'good.ts': `
import { TestCase } from 'loads-runner'
export class Good extends TestCase {
  async test_one() {}
  async test_two() {}
}
export class NotATest { test_x() {} }
`,
  'broken.ts': `
import { TestCase } from 'loads-runner'
export class Broken extends TestCase {
  async test_x() {
    const a = ;
  }
}
`,
  'throws_on_load.ts': `
import { TestCase } from 'loads-runner'
const config: any = undefined
const port = config.port
export class T extends TestCase { async test_x() {} }
`,
  'outcomes.ts': `
import assert from 'node:assert'
import { TestCase } from 'loads-runner'
export class Outcomes extends TestCase {
  static serverUrl = process.env.TARGET
  async test_assert_fails() {
    await this.session.get('/')
    this.assertEqual(1, 2)
  }
  async test_node_assert_fails() {
    assert.strictEqual('a', 'b')
  }
  async test_type_error() {
    const x: any = null
    x.boom()
  }
  async test_throws_a_string() {
    throw 'not an error'
  }
  async test_counts() {
    this.incrCounter('widgets', 3)
  }
}
`,
  'network.ts': `
import { TestCase } from 'loads-runner'
export class Net extends TestCase {
  async test_get() {
    await this.session.get(process.env.TARGET + '/x')
  }
}
`,
  'two-tests.ts': `
import { TestCase } from 'loads-runner'
export class Two extends TestCase {
  async test_first() {
    await this.session.get(process.env.TARGET + '/x')
  }
  async test_second() {
    await this.session.get(process.env.TARGET + '/x')
  }
}
`,
  'hang.ts': `
import { TestCase } from 'loads-runner'
export class Hang extends TestCase {
  async test_never_settles() {
    await new Promise(() => {})
  }
}
`,
  'slow.ts': `
import { TestCase } from 'loads-runner'
export class Slow extends TestCase {
  async test_get() {
    const res = await this.session.get(process.env.TARGET + '/slow')
    this.assertEqual(res.status, 200)
  }
}
`,
}

describe('bad input gets a clear message, its exit code, and no stack trace of ours', () => {
  let dir: string
  beforeAll(() => {
    dir = tempProject(FILES)
  })

  const run = (args: string[], env: Record<string, string> = {}) => runBin(LOADS_RUNNER, args, { cwd: dir, env })

  it('a module not found says which paths were tried (exit 2)', async () => {
    const r = await run(['nope.Class.test'])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain("test module not found for 'nope.Class.test'")
    expect(r.stderr).toContain(`${dir}/nope.ts`)
    expect(r.stderr).toContain(`${dir}/nope/Class.mjs`)
    expect(r.stderr).not.toMatch(/\n\s+at /)
  })

  it('a class not found lists the classes that exist', async () => {
    const r = await run(['good.Bad.test_one'])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain("class 'Bad' not found in good.ts; its TestCase classes: Good")
  })

  it('a method not found lists the test methods', async () => {
    const r = await run(['good.Good.test_three'])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain("method 'test_three' not found in Good; its test methods: test_one, test_two")
  })

  it('a class that is not a TestCase is refused', async () => {
    const r = await run(['good.ts:NotATest'])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain("'NotATest' in good.ts is not a TestCase")
  })

  it('a syntax error names file:line', async () => {
    const r = await run(['broken.Broken.test_x'])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain(`${dir}/broken.ts:5:15: Unexpected ";"`)
  })

  it('an error while loading the module names file:line', async () => {
    const r = await run(['throws_on_load.T.test_x'])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain(`${dir}/throws_on_load.ts:4:`)
    expect(r.stderr).toContain("TypeError: Cannot read properties of undefined (reading 'port')")
  })

  it.each([
    [['-u', '0'], "-u/--users expects a whole number ≥ 1, or steps like 10:20:30: got '0'"],
    [['-u', 'abc'], "got 'abc'"],
    [['-u', '10::20'], 'a step is empty'],
    [['-c', '-1'], "-c/--hits expects a whole number ≥ 1, or steps like 10:20:30: got '-1'"],
    [['-c', '5', '-d', '10s'], '-c/--hits and -d/--duration cannot be used together'],
    [['-d', 'soon'], "-d/--duration expects a duration like 30, 30s, 500ms, 2m or 1m30s: got 'soon'"],
    [['--workers', '0'], "--workers expects a whole number ≥ 1: got '0'"],
    [['--workers', '999'], '--workers 999 is more than 4 per core'],
    [['--server-url', 'ftp://x'], '--server-url expects an http:// or https:// URL'],
    [['--nope'], "unknown option '--nope'"],
  ])('%j is a usage error (exit 2)', async (args, message) => {
    const r = await run(['good.Good', ...args])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain(message)
    expect(r.stdout).not.toContain('TestResult')
  })

  describe('against a real server', () => {
    let server: CountingServer
    beforeAll(async () => {
      server = await startCountingServer()
    })
    afterAll(() => server.close())

    it('assertion failures are failures, other exceptions errors; tracebacks point at the test file', async () => {
      const r = await run(['outcomes.Outcomes', '-u', '2', '-c', '3', '-q'], { TARGET: server.url })
      expect(r.code).toBe(1)
      // 5 tests × 2 users × 3 runs.
      expect(testResult(r.stdout)).toEqual({ run: 30, errors: 12, failures: 12 })
      expect(r.stdout).toContain('1 != 2')
      expect(r.stdout).toContain(`${dir}/outcomes.ts:8:`)
      expect(r.stdout).toContain('TypeError')
      expect(r.stdout).toContain(`${dir}/outcomes.ts:15:`)
      expect(r.stdout).toContain('a non-Error value was thrown: "not an error"')
      expect(r.stdout).toMatch(/widgets\D+18\b/)
    })
  })

  it('an unreachable target: the run completes and counts the errors by kind', async () => {
    const closed = await closedPort()
    const r = await run(['network.Net', '-u', '3', '-c', '4', '-q'], { TARGET: `http://127.0.0.1:${closed}` })
    expect(r.code).toBe(1)
    expect(testResult(r.stdout)).toEqual({ run: 12, errors: 12, failures: 0 })
    expect(r.stdout).toMatch(/^Hits: 12 /m)
    expect(r.stdout).toContain('ECONNREFUSED')
    // Raised from a socket callback, yet the traceback points at the test's line (the call site).
    expect(r.stdout).toContain(`${dir}/network.ts:5:`)
  })

  it('two tests requesting the same URL from their own lines: each traceback names its own line', async () => {
    const closed = await closedPort()
    const r = await run(['two-tests.Two', '-u', '2', '-c', '2', '-q'], { TARGET: `http://127.0.0.1:${closed}` })
    expect(r.code).toBe(1)
    expect(testResult(r.stdout)).toEqual({ run: 8, errors: 8, failures: 0 })
    // The call site is remembered per test: before, both showed the line the first test asked from.
    expect(r.stdout).toMatch(/\(4×, Two\.test_first\)\n\s+at Two\.test_first \([^)\n]*\/two-tests\.ts:5:\d+\)\n/)
    expect(r.stdout).toMatch(/\(4×, Two\.test_second\)\n\s+at Two\.test_second \([^)\n]*\/two-tests\.ts:8:\d+\)\n/)
  })

  it('a target that never answers: each request times out (--timeout), counted as TIMEOUT', async () => {
    const sockets = new Set<import('node:net').Socket>()
    const silent = createServer((socket) => sockets.add(socket))
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
    try {
      const port = (silent.address() as { port: number }).port
      const r = await run(['network.Net', '-u', '2', '-c', '2', '--timeout', '300ms', '-q'], { TARGET: `http://127.0.0.1:${port}` })
      expect(r.code).toBe(1)
      expect(testResult(r.stdout)).toEqual({ run: 4, errors: 4, failures: 0 })
      expect(r.stdout).toContain('TIMEOUT')
      expect(r.stdout).toContain(`${dir}/network.ts:5:`)
    } finally {
      for (const socket of sockets) socket.destroy()
      await closeNet(silent)
    }
  })

  it('a test that never settles is cut off (--test-timeout) and counted as an error', async () => {
    const r = await run(['hang.Hang', '-u', '2', '-c', '2', '--test-timeout', '300ms', '-q'])
    expect(r.code).toBe(1)
    expect(testResult(r.stdout)).toEqual({ run: 4, errors: 4, failures: 0 })
    expect(r.stdout).toContain('did not settle within 300 ms')
  })

  it('Ctrl-C stops the run, prints the summary of what was done, and exits 130; hits equal the server count', async () => {
    const server = await startCountingServer((_req, res) => setTimeout(() => res.end('ok'), 20))
    try {
      let pid = 0
      let sent = false
      const r = await runBin(LOADS_RUNNER, ['slow.Slow', '-u', '10', '-c', '100000'], {
        cwd: dir,
        env: { TARGET: server.url },
        onSpawn: (p) => (pid = p),
        onStdout: () => {
          if (!sent && server.count > 50) {
            sent = true
            process.kill(pid, 'SIGINT')
          }
        },
      })
      expect(sent).toBe(true)
      expect(r.code).toBe(130)
      const hits = Number(/^Hits: (\d+)/m.exec(r.stdout)?.[1])
      expect(hits).toBe(server.count)
      expect(r.stdout).toContain('<TestResult run=')
    } finally {
      await server.close()
    }
  })
})

async function closedPort(): Promise<number> {
  const s = createServer()
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve))
  const port = (s.address() as { port: number }).port
  await closeNet(s)
  return port
}

function closeNet(s: Server): Promise<void> {
  return new Promise((resolve) => s.close(() => resolve()))
}
