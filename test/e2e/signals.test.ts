import { spawn } from 'node:child_process'
import { rmSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startCountingServer, type CountingServer } from '../helpers/counting-server.js'
import { LOADS_RUNNER, tempProject, testResult } from '../helpers/cli.js'

const FILES = {
  'loop.ts': `
import { TestCase } from 'loads-runner'
export class Loop extends TestCase {
  async test_get() { await this.session.get(process.env.TARGET + process.env.RUN_PATH) }
}
`,
}

interface Ended {
  code: number | null
  stdout: string
  stderr: string
  hits: number | undefined
  count: number
}

describe('signals like a good citizen', () => {
  let dir: string
  let server: CountingServer
  beforeAll(async () => {
    dir = tempProject(FILES)
    server = await startCountingServer((_req, res) => setTimeout(() => res.end('ok'), 5))
  })
  afterAll(async () => {
    await server.close()
    rmSync(dir, { recursive: true, force: true })
  })

  /**
   * loads-runner under GNU `timeout`, which on a signal (its own expiry, or one it is sent)
   * signals the runner and then its whole process group: the runner gets SIGTERM twice at once.
   * The test signals `timeout` once the server has counted hits from this run.
   */
  function underTimeout(path: string): Promise<Ended> {
    return new Promise((resolve, reject) => {
      const before = server.countByPath.get(path) ?? 0
      const child = spawn('timeout', ['150', process.execPath, LOADS_RUNNER, 'loop.Loop', '-u', '2', '-w', '1', '-d', '50s', '-q'], {
        cwd: dir,
        env: { ...process.env, FORCE_COLOR: '0', TARGET: server.url, RUN_PATH: path },
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      let stdout = ''
      let stderr = ''
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
      const poll = setInterval(() => {
        if ((server.countByPath.get(path) ?? 0) - before < 20) return
        clearInterval(poll)
        child.kill('SIGTERM')
      }, 20)
      const killer = setTimeout(() => child.kill('SIGKILL'), 180_000)
      child.on('error', reject)
      child.on('close', (code) => {
        clearInterval(poll)
        clearTimeout(killer)
        const m = /^Hits: (\d+)/m.exec(stdout)
        resolve({ code, stdout, stderr, hits: m ? Number(m[1]) : undefined, count: (server.countByPath.get(path) ?? 0) - before })
      })
    })
  }

  it('under GNU timeout, 10 runs of 10 print the summary, exit 130, and count every hit the server saw', async () => {
    const ended: Ended[] = []
    // Five at a time: the machine is shared.
    for (const batch of [0, 1]) {
      ended.push(...(await Promise.all([0, 1, 2, 3, 4].map((i) => underTimeout(`/run-${batch}-${i}`)))))
    }
    for (const r of ended) {
      expect(r.code, `${r.stdout}\n${r.stderr}\ncount ${r.count}`).toBe(130)
      expect(testResult(r.stdout), r.stdout).toBeDefined()
      expect(r.hits).toBe(r.count)
      expect(r.stderr).toContain('SIGTERM: stopping; the summary follows')
    }
  }, 400_000)
})
