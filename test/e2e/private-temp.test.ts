import { execFileSync, spawn } from 'node:child_process'
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startCountingServer, type CountingServer } from '../helpers/counting-server.js'
import { LOADS_RUNNER, tempProject, testResult } from '../helpers/cli.js'

/** Another user for the test: a uid no account uses (setpriv needs no passwd entry). */
const OTHER_UID = 41_013
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0
let hasSetpriv = false
try {
  execFileSync('setpriv', ['--version'], { stdio: 'ignore' })
  hasSetpriv = true
} catch {
  hasSetpriv = false
}

interface Result {
  code: number | null
  stdout: string
  stderr: string
}

function runAs(uid: number | undefined, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<Result> {
  const command = uid === undefined ? [process.execPath, LOADS_RUNNER, ...args] : ['setpriv', `--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', process.execPath, LOADS_RUNNER, ...args]
  return new Promise((resolve, reject) => {
    const child = spawn(command[0]!, command.slice(1), { cwd, env: { ...process.env, ...env, FORCE_COLOR: '0' }, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })
}

/**
 * Whether a user other than the owner can reach this checkout's runner: every folder above it
 * searchable by others. A checkout inside a private folder (`mktemp -d` is 0700) cannot be run
 * by the second user at all, whatever Loads does.
 */
function othersCanReach(file: string): boolean {
  for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
    if ((statSync(dir).mode & 0o001) === 0) return false
    if (path.dirname(dir) === dir) return true
  }
}

// Root runs Loads as a second user with setpriv; without root (or setpriv) there is no second user.
describe.skipIf(!isRoot || !hasSetpriv || !othersCanReach(LOADS_RUNNER))('each user has a private temp space (0700), emptied when the run ends', () => {
  let dir: string
  let tmp: string
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
    // The other user reads the test; both write in a shared sticky temp folder, as /tmp is.
    chmodSync(dir, 0o755)
    chmodSync(path.join(dir, 'get.ts'), 0o644)
    tmp = mkdtempSync(path.join(os.tmpdir(), 'loads-tmp-test-'))
    chmodSync(tmp, 0o1777)
    server = await startCountingServer()
  })
  afterAll(async () => {
    await server.close()
    rmSync(dir, { recursive: true, force: true })
    rmSync(tmp, { recursive: true, force: true })
  })

  it('two users run one after the other: each gets its own loads-<uid> folder, 0700, left empty', async () => {
    const env = { TMPDIR: tmp, TARGET: server.url }
    const before = server.count
    const mine = await runAs(undefined, ['get.Get', '-u', '2', '-c', '3', '-q'], dir, env)
    expect(mine.code, mine.stderr).toBe(0)
    const theirs = await runAs(OTHER_UID, ['get.Get', '-u', '2', '-c', '3', '-q'], dir, env)
    expect(theirs.code, theirs.stderr).toBe(0)
    expect(testResult(theirs.stdout)).toEqual({ run: 6, errors: 0, failures: 0 })
    expect(server.count - before).toBe(12)
    for (const uid of [0, OTHER_UID]) {
      const folder = path.join(tmp, `loads-${uid}`)
      const stat = statSync(folder)
      expect(stat.uid).toBe(uid)
      expect(stat.mode & 0o777).toBe(0o700)
      // The run's bundle folder went with the run.
      expect(readdirSync(folder)).toEqual([])
    }
  })

  it("a loads-<uid> folder that belongs to someone else is refused with a clear message (exit 2), before any load", async () => {
    const planted = path.join(tmp, `loads-${OTHER_UID + 1}`)
    // Planted afresh on a retry (a failed attempt's is still there).
    rmSync(planted, { recursive: true, force: true })
    mkdirSync(planted, { mode: 0o777 })
    const before = server.count
    const r = await runAs(OTHER_UID + 1, ['get.Get', '-q'], dir, { TMPDIR: tmp, TARGET: server.url })
    expect(r.code).toBe(2)
    expect(r.stderr).toContain(`cannot use ${planted} for temporary files: it belongs to user 0, not to you (${OTHER_UID + 1})`)
    expect(r.stderr).toContain('hint: remove it if it is stale, or point TMPDIR at a folder of your own')
    expect(r.stderr).not.toMatch(/\n\s+at /)
    expect(server.count).toBe(before)
  })
})
