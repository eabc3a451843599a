/**
 * test/flaky-reporter.ts, the suite's own reporter: a test that fails once and passes on the retry
 * is named at the end of the run with the error its failed attempt threw (the default reporter
 * shows nothing of it), so the flake can be mended from the CI log alone.
 */
import { spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { expect, it } from 'vitest'
import { testTemp } from '../helpers/temp.js'

const root = fileURLToPath(new URL('../..', import.meta.url))

it('names a test that passed on its retry, with the first attempt’s error and its own frame', { timeout: 60_000 }, () => {
  const dir = testTemp('loads-flaky-reporter-')
  writeFileSync(
    join(dir, 'probe.test.ts'),
    `import { expect, it } from 'vitest'
let tries = 0
it('fails once, then passes', () => {
  tries++
  expect(tries, 'the first attempt').toBe(2)
})
it('passes at once', () => {
  expect(1).toBe(1)
})
`,
  )
  const vitest = join(root, 'node_modules/vitest/vitest.mjs')
  const run = spawnSync(process.execPath, [vitest, 'run', '--root', dir, '--retry', '1', '--reporter', join(root, 'test/flaky-reporter.ts')], { cwd: dir, encoding: 'utf8', timeout: 50_000 })
  expect(run.status, run.stderr).toBe(0)
  const report = run.stdout.slice(run.stdout.indexOf('FLAKY:'))
  const lines = report.trim().split('\n')
  expect(lines.slice(0, 3)).toEqual([
    'FLAKY: 1 test(s) failed once and passed on the retry; each is a defect to mend:',
    '  - probe.test.ts > fails once, then passes',
    '      AssertionError: the first attempt: expected 1 to be 2 // Object.is equality',
  ])
  // The test's own line, not vitest's frames.
  expect(lines[3]).toMatch(/^ {10}at .*probe\.test\.ts:5:\d+$/)
  expect(report).not.toContain('node_modules')
  expect(report).not.toContain('passes at once')
})
