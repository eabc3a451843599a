import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startCountingServer, type CountingServer } from '../helpers/counting-server.js'
import { LOADS_RUNNER, runBin, tempProject, testResult } from '../helpers/cli.js'

const TEST = `
import { TestCase } from 'loads-runner'

export class Configured extends TestCase {
  async test_get() {
    const res = await this.session.get('/configured')
    this.assertEqual(res.status, 200)
  }
}
`

describe('--config: options from an INI or TOML file', () => {
  let server: CountingServer
  let dir: string
  beforeAll(async () => {
    server = await startCountingServer()
    dir = tempProject({
      'configured.ts': TEST,
      'bad.ini': '[loads]\nusers = 3\nuserz = 4\nramp = 10s\n',
    })
  })
  afterAll(() => server.close())

  it('runs with the file’s options; a flag on the command line wins over the file (-c 4 over hits = 2)', async () => {
    const ini = tempProject({ 'loads.ini': `# the original's format\n[loads]\nusers = 3\nhits = 2\nserver-url = ${server.url}\nquiet = true\n` })
    const before = server.count
    const r = await runBin(LOADS_RUNNER, ['configured.Configured.test_get', '--config', `${ini}/loads.ini`, '-c', '4'], { cwd: dir })
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(testResult(r.stdout)).toEqual({ run: 12, errors: 0, failures: 0 })
    expect(server.count - before).toBe(12)
    expect(r.stdout).not.toMatch(/progress:/)
  })

  it('reads TOML too', async () => {
    const toml = tempProject({ 'loads.toml': `[loads]\nusers = 2\nhits = 3\nserver-url = "${server.url}"\nquiet = true\n` })
    const before = server.count
    const r = await runBin(LOADS_RUNNER, ['configured.Configured.test_get', '--config', `${toml}/loads.toml`], { cwd: dir })
    expect(r.code).toBe(0)
    expect(server.count - before).toBe(6)
  })

  it('refuses unknown keys by name (exit 2) and sends nothing', async () => {
    const before = server.count
    const r = await runBin(LOADS_RUNNER, ['configured.Configured.test_get', '--config', 'bad.ini'], { cwd: dir })
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('bad.ini: unknown keys in [loads]: userz, ramp')
    expect(r.stderr).toMatch(/hint: keys are the long flags .*ramp-up/)
    expect(server.count).toBe(before)
  })
})
