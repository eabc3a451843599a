import { rmSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LOADS_RUNNER, runBin, tempProject } from '../helpers/cli.js'

// Refused before any broker is asked (the broker named here does not exist).
describe('--attach is refused with what to do, not silently bent', () => {
  let dir: string
  beforeAll(() => {
    dir = tempProject({ 'get.ts': "import { TestCase } from 'loads-runner'\nexport class Get extends TestCase { async test_get() {} }\n" })
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it.each([
    [['get.Get', '--attach', 'abc'], "--attach follows a run already going, with the test it was started with: it takes no test (got 'get.Get')"],
    [['--attach', ''], '--attach needs a run id, or nothing at all for the latest run: got an empty one'],
  ])('%j: exit 2 and why', async (args, message) => {
    const r = await runBin(LOADS_RUNNER, [...args, '--broker', 'nats://127.0.0.1:1'], { cwd: dir })
    expect(r.code).toBe(2)
    expect(r.stderr).toContain(message)
    expect(r.stderr).toContain('hint: loads-runner --attach RUN_ID')
    expect(r.stderr).not.toMatch(/\n\s+at /)
  })
})
