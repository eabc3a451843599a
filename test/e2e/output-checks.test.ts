import { mkdirSync, rmSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startCountingServer, type CountingServer } from '../helpers/counting-server.js'
import { LOADS_RUNNER, runBin, tempProject } from '../helpers/cli.js'

// Outputs that cannot be written are refused before any request leaves (exit 2), and a write
// that fails at the end (a full device) is a clear message and a non-zero exit, never exit 0.
describe('outputs are checked before the load', () => {
  let dir: string
  let server: CountingServer
  beforeAll(async () => {
    dir = tempProject({
      'get.ts': `
import { TestCase } from 'loads-runner'
export class Get extends TestCase {
  async test_get() { await this.session.get(process.env.TARGET + '/') }
}
`,
    })
    mkdirSync(path.join(dir, 'a-folder'))
    server = await startCountingServer()
  })
  afterAll(async () => {
    await server.close()
    rmSync(dir, { recursive: true, force: true })
  })

  const run = (args: string[]) => runBin(LOADS_RUNNER, ['get.Get', '-u', '2', '-c', '2', '-q', ...args], { cwd: dir, env: { TARGET: server.url } })

  it.each([
    [['--output', 'json:a-folder'], '--output json:a-folder: a-folder is a folder, not a file'],
    [['--report', '/proc/loads-report.html'], '--report /proc/loads-report.html: cannot write in /proc'],
    [['--output', 'json:same.json', '--output', 'junit:same.json'], '--output json:same.json and --output junit:same.json both write same.json'],
    [['--output', 'csv:r.csv', '--output', 'json:r.series.csv'], 'both write r.series.csv'],
  ])('%j: a clear message, exit 2, no request sent', async (args, message) => {
    const before = server.count
    const r = await run(args)
    expect(r.code).toBe(2)
    expect(r.stderr).toContain(message)
    expect(r.stderr).not.toMatch(/\n\s+at /)
    expect(server.count).toBe(before)
  })

  it('a full device (/dev/full): the summary, then which output failed and why; not exit 0, no stack trace', async () => {
    const before = server.count
    const r = await run(['--output', 'json:/dev/full'])
    expect(r.code).toBe(2)
    expect(r.stdout).toMatch(/^Hits: 4 /m)
    expect(server.count - before).toBe(4)
    expect(r.stderr).toContain('--output json:/dev/full: could not write /dev/full: no space left on the device')
    expect(r.stderr).not.toMatch(/\n\s+at /)
  })
})
