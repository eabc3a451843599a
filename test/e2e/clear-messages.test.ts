/**
 * Messages that say what is wrong (exit code right, no stack trace): a folder given as the test,
 * a CommonJS test file, the shell's `get` without a path, a refused connection under --resolve
 * naming the pinned address, a --dashboard-host that is not this machine's.
 */
import { describe, expect, it } from 'vitest'
import { LOADS, LOADS_RUNNER, runBin, tempProject } from '../helpers/cli.js'
import { closedPort } from '../helpers/http-servers.js'
import { runPiped } from '../helpers/piped.js'

const ESM = `import { TestCase } from 'loads-runner'
export class Site extends TestCase {
  async test_hit() {
    await this.session.get(process.env.TARGET)
  }
}
`
const CJS = `const { TestCase } = require('loads-runner')
class Site extends TestCase {
  async test_hit() {}
}
module.exports = { Site }
`
const noStack = /\n\s+at |internal error|ReferenceError/

describe('clear messages for bad input', () => {
  it('a folder as the test address, a CommonJS test file, a --dashboard-host not of this machine: exit 2, said plainly', async () => {
    const cwd = tempProject({ 'tests/site.ts': ESM, 'tests/other.ts': ESM, 'old.js': CJS, 'site.ts': ESM })
    const cases: [string[], string[]][] = [
      [['tests'], ['error: tests is a folder, not a test module (test modules in it: other.ts, site.ts)', 'hint: name a file and its test: tests/other.ts:Class.method']],
      [['tests/', '-c', '1'], ['error: tests/ is a folder, not a test module']],
      [['old.js:Site.test_hit'], ['error: old.js is a CommonJS module (module.exports = { Site }): test files are ES modules', "hint: write `import { TestCase } from 'loads-runner'` and `export class MyTest extends TestCase"]],
      [['site.ts:Site.test_hit', '--dashboard', '0', '--dashboard-host', '192.0.2.1'], ['error: --dashboard: cannot listen on 192.0.2.1:0: 192.0.2.1 is not an address of this machine', 'hint: --dashboard-host takes an address of this machine']],
    ]
    const results = await Promise.all(cases.map(([args]) => runBin(LOADS_RUNNER, args, { cwd, env: { TARGET: 'http://127.0.0.1:9/' } })))
    results.forEach((r, i) => {
      const [args, says] = cases[i]!
      const what = `${args.join(' ')}:\n${r.stdout}${r.stderr}`
      expect(r.code, what).toBe(2)
      for (const line of says) expect(r.stderr, what).toContain(line)
      expect(r.stderr, what).not.toMatch(noStack)
      expect(r.stdout, what).not.toContain('Hits:')
    })
  }, 90_000)

  it('a refused connection under --resolve names the pinned address; the shell says what `get` alone lacks', async () => {
    const port = await closedPort()
    const cwd = tempProject({ 'site.ts': ESM })
    const [run, shell] = await Promise.all([
      runBin(LOADS_RUNNER, ['site.ts:Site.test_hit', '-c', '1', '--resolve', `api.example.test:${port}:127.0.0.1`], { cwd, env: { TARGET: `http://api.example.test:${port}/` } }),
      runPiped(LOADS, ['shell'], 'get\nPOST\n1 + 1\n', { cwd }),
    ])
    expect(run.code, run.stdout + run.stderr).toBe(1)
    expect(run.stdout).toContain(`connection refused by api.example.test:${port} (at 127.0.0.1:${port})`)
    const out = shell.stdout + shell.stderr
    expect(out).toContain('error: get needs a path or a URL\nhint: get /items (with --server-url), or get http://127.0.0.1:8080/items')
    expect(out).toContain('error: post needs a path or a URL')
    // The shell goes on: JavaScript still runs after.
    expect(out).toContain('loads> 2')
    expect(out).not.toMatch(noStack)
    expect(shell.code).toBe(0)
  }, 90_000)
})
