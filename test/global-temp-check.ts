/**
 * vitest globalSetup: the suite runs with a temporary directory of its own (TMPDIR, inherited by
 * every test worker and every process the tests start), and at the end fails if anything named
 * loads-* is left in it — a test or a Loads process that did not clean up after itself. Other
 * programs' leftovers (Chromium's, nats-server's) are listed, not failed on, and removed.
 * Other test runs on the machine cannot disturb the check: they write elsewhere.
 *
 * Wired in vitest.config.ts. Agents a test ends with SIGKILL cannot remove their folder: the
 * helper that started them does (test/helpers/agents.ts); test folders come from
 * test/helpers/temp.ts, removed after each file.
 */
import { chmodSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'

export default function setup(): () => void {
  const outer = process.env['TMPDIR']
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vitest-loads-tmp-'))
  // As /tmp is: other users (nginx's workers, a second user in the temp-space test) reach their
  // own files in it, none can remove another's.
  chmodSync(dir, 0o1777)
  process.env['TMPDIR'] = dir
  return () => {
    if (outer === undefined) delete process.env['TMPDIR']
    else process.env['TMPDIR'] = outer
    // Loads' per-user folder (`loads-<uid>`) may stay, empty: what is inside it is checked.
    const own = `loads-${typeof process.getuid === 'function' ? process.getuid() : os.userInfo().username}`
    const left = readdirSync(dir).flatMap((name) =>
      name === own && statSync(path.join(dir, name)).isDirectory() ? readdirSync(path.join(dir, name)).map((inner) => `${own}/${inner}`) : [name],
    )
    rmSync(dir, { recursive: true, force: true })
    const ours = left.filter((name) => name.startsWith('loads-') || name.startsWith('loads_'))
    const others = left.filter((name) => !ours.includes(name))
    if (others.length > 0) console.warn(`temporary files left by other programs (removed): ${others.join(', ')}`)
    if (ours.length > 0) {
      // vitest reports an error thrown here but keeps its exit code: set ours.
      process.exitCode = 1
      throw new Error(`the test run left ${ours.length} entries in the temporary directory (removed now; each test must remove its own): ${ours.sort().join(', ')}`)
    }
  }
}
