/**
 * `--data` is bounded: a file past the limit is refused before any request with a clear message
 * (exit 2, no stack trace); and the time workers spend loading — the test module, parsing the
 * rows, setUpClass — is not counted in the run's duration.
 */
import { truncateSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startCountingServer, type CountingServer } from '../helpers/counting-server.js'
import { LOADS_RUNNER, runBin, tempProject } from '../helpers/cli.js'

const TEST = `
import { TestCase } from 'loads-runner'

export class Rows extends TestCase {
  // Loading takes 4 s (as parsing a big --data file or a slow setUpClass would).
  static async setUpClass() {
    await new Promise((r) => setTimeout(r, 4000))
  }
  async test_row() {
    const row = this.data as { id: string }
    await this.session.get(process.env.TARGET + '/row/' + row.id)
    await new Promise((r) => setTimeout(r, 100))
  }
}
`

describe('--data limits', () => {
  let server: CountingServer
  let dir: string
  beforeAll(async () => {
    server = await startCountingServer()
    dir = tempProject({ 'rows.ts': TEST, 'rows.csv': `id\n${Array.from({ length: 100_000 }, (_, i) => i).join('\n')}\n` })
    // 65 MiB without writing 65 MiB (sparse): the size is refused before the file is read.
    writeFileSync(path.join(dir, 'big.csv'), 'id\n')
    truncateSync(path.join(dir, 'big.csv'), 65 * 1024 * 1024)
  })
  afterAll(() => server.close())

  it('refuses a file over 64 MiB before any request: exit 2, its size and the limit named, no stack trace', async () => {
    const r = await runBin(LOADS_RUNNER, ['rows.Rows.test_row', '-u', '1', '-c', '1', '--data', 'big.csv'], { cwd: dir, env: { TARGET: server.url } })
    expect(r.code, r.stdout + r.stderr).toBe(2)
    expect(r.stderr).toContain('error: --data big.csv is 65 MiB: more than the 64 MiB a run takes')
    expect(r.stderr).toContain('hint: keep only the rows and columns the test uses')
    expect(r.stderr).not.toMatch(/\n\s+at |internal error/)
    expect(server.count).toBe(0)
  })

  it('does not count the workers loading (data parsing, setUpClass) in the run duration', async () => {
    const r = await runBin(LOADS_RUNNER, ['rows.Rows.test_row', '-u', '1', '-d', '2s', '-w', '1', '--data', 'rows.csv'], {
      cwd: dir,
      env: { TARGET: server.url },
      timeoutMs: 90_000,
    })
    expect(r.code, r.stdout + r.stderr).toBe(0)
    const m = /Duration:\s*(\d+\.\d+) s/.exec(r.stdout)
    expect(m, r.stdout).not.toBeNull()
    // The 2 s of load (plus the last run and a snapshot's rounding), not the 4 s spent loading.
    const seconds = Number(m![1])
    expect(seconds).toBeGreaterThanOrEqual(1.9)
    expect(seconds).toBeLessThan(3.9)
    expect(Number(/^Hits: (\d+)/m.exec(r.stdout)?.[1])).toBe(server.count)
  }, 120_000)
})
