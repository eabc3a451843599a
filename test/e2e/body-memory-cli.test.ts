import { readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LOADS_RUNNER, runBin, tempProject, testResult } from '../helpers/cli.js'
import { resetOnRetry } from '../helpers/retry-reset.js'

const GiB = 2 ** 30
const MiB = 2 ** 20
/** The bound on the runner's resident memory while a 1 GiB body streams in. */
const RSS_LIMIT = 200 * 1000 * 1000

const TEST = `
import { TestCase } from 'loads-runner'

export class Big extends TestCase {
  async test_big() {
    await this.session.get(process.env.TARGET + '/big')
  }
  async test_read() {
    // From the config file: --max-body 1MiB and --discard-bodies. A kept 2 MiB body fails …
    const kept = await this.session.get(process.env.TARGET + '/two-mib', { discardBody: false, name: 'kept' }).catch((e) => e)
    if (kept.kind !== 'BODY_TOO_LARGE' || !kept.message.includes('passed the limit of 1048576 bytes')) throw new Error('expected BODY_TOO_LARGE at 1 MiB, got ' + String(kept))
    // … a discarded one is counted whole, and a small one is read when the request keeps it.
    const discarded = await this.session.get(process.env.TARGET + '/two-mib', { name: 'discarded' })
    if (!discarded.bodyDiscarded || discarded.bodyBytes !== 2 * 1024 * 1024) throw new Error('the body was not discarded')
    const small = await this.session.get(process.env.TARGET + '/small', { discardBody: false })
    if (small.text !== 'ok') throw new Error('the small body was not kept')
  }
}
`

/** The peak resident set (VmHWM) of process `pid` so far, bytes, from /proc; 0 once it is gone. */
function peakRss(pid: number): number {
  try {
    const kB = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]
    return kB === undefined ? 0 : Number(kB) * 1024
  } catch {
    return 0
  }
}

/**
 * Bounded memory through the CLI: a 1 GiB chunked body sent at loopback speed leaves the
 * runner's resident memory under 200 MB, both with the default limit (the hit fails as
 * BODY_TOO_LARGE at 32 MiB and the connection is closed) and with --discard-bodies (all 1 GiB
 * is read and counted, none of it kept). The peak is the kernel's own (VmHWM), polled from /proc.
 */
describe('bounded memory through the CLI', () => {
  let dir: string
  let server: Server
  let origin: string
  /** Per /big response: bytes written, and whether the client hung up before the end. */
  const bigs: Array<{ sent: number; cut: boolean }> = []
  // A retried test sees only its own attempt's responses.
  const forget = resetOnRetry(() => {
    bigs.length = 0
  })

  beforeAll(async () => {
    dir = tempProject({
      'big.ts': TEST,
      'loads.toml': '[loads]\nmax-body = "1MiB"\ndiscard-bodies = true\n',
    })
    const piece = Buffer.alloc(256 * 1024, 0x61)
    server = createServer((req, res) => {
      if (req.url === '/small') return void res.end('ok')
      const total = req.url === '/two-mib' ? 2 * MiB : GiB
      const entry = { sent: 0, cut: false }
      if (total === GiB) bigs.push(entry)
      res.writeHead(200, { 'content-type': 'application/octet-stream' }) // chunked: no length to check first
      let left = total
      res.on('close', () => {
        if (!res.writableFinished) entry.cut = true
        left = 0
      })
      const pump = (): void => {
        while (left > 0) {
          const n = Math.min(left, piece.length)
          left -= n
          entry.sent += n
          if (!res.write(n === piece.length ? piece : piece.subarray(0, n))) return void res.once('drain', pump)
        }
        res.end()
      }
      pump()
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  afterAll(async () => {
    forget()
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  })

  /**
   * Runs the runner on one worker, polling its peak RSS every 50 ms until it exits. 1 GiB takes
   * ~2 s on a quiet machine and over a minute at a load average of 20 on 2 cores: hence the
   * request timeout.
   */
  async function measured(args: string[]): Promise<{ code: number | null; stdout: string; peak: number; json: { summary: { bytesIn: number } } }> {
    const out = path.join(dir, `result-${args.join('').replace(/\W/g, '')}.json`)
    let pid = 0
    let peak = 0
    const poll = setInterval(() => (peak = Math.max(peak, peakRss(pid))), 50)
    const r = await runBin(LOADS_RUNNER, ['big.Big.test_big', '-u', '1', '-c', '1', '-w', '1', '-q', '--timeout', '160s', '--output', `json:${out}`, ...args], {
      cwd: dir,
      env: { TARGET: origin },
      timeoutMs: 170_000,
      onSpawn: (p) => (pid = p),
    })
    clearInterval(poll)
    return { code: r.code, stdout: r.stdout, peak, json: JSON.parse(readFileSync(out, 'utf8')) as { summary: { bytesIn: number } } }
  }

  it('keeps the runner under 200 MB while a 1 GiB body streams in: cut at the default limit, or read whole and discarded', async () => {
    const [capped, discarded] = await Promise.all([measured([]), measured(['--discard-bodies'])])
    // The default limit: the hit fails as BODY_TOO_LARGE, the connection is closed under the body.
    expect(capped.code, capped.stdout).toBe(1)
    expect(testResult(capped.stdout)).toEqual({ run: 1, errors: 1, failures: 0 })
    expect(capped.stdout).toMatch(/GET +\/big +1 .* BODY_TOO_LARGE×1/)
    expect(capped.stdout).toContain('passed the limit of 33554432 bytes')
    expect(capped.json.summary.bytesIn).toBeGreaterThan(32 * MiB)
    expect(capped.json.summary.bytesIn).toBeLessThan(34 * MiB)
    // --discard-bodies: all of it read and counted, to the byte.
    expect(discarded.code, discarded.stdout).toBe(0)
    expect(discarded.stdout).toMatch(/GET +\/big +1 .* 200×1/)
    expect(discarded.json.summary.bytesIn).toBe(GiB)
    expect(bigs.map((b) => b.cut).sort()).toEqual([false, true])
    expect(bigs.find((b) => b.cut)!.sent).toBeLessThan(GiB / 2)
    expect(bigs.find((b) => !b.cut)!.sent).toBe(GiB)
    // The kernel's peak resident set of each runner process (main thread, worker, everything).
    expect(capped.peak).toBeGreaterThan(0)
    expect(capped.peak).toBeLessThan(RSS_LIMIT)
    expect(discarded.peak).toBeLessThan(RSS_LIMIT)
  }, 180_000)

  it('takes --max-body and --discard-bodies from a config file; a request keeps its body with discardBody: false', async () => {
    const r = await runBin(LOADS_RUNNER, ['big.Big.test_read', '-u', '1', '-c', '2', '-w', '1', '-q', '--config', 'loads.toml'], { cwd: dir, env: { TARGET: origin } })
    expect(testResult(r.stdout)).toEqual({ run: 2, errors: 0, failures: 0 })
    expect(r.stdout).toMatch(/GET +kept +2 .* BODY_TOO_LARGE×2/)
    expect(r.stdout).toMatch(/GET +discarded +2 .* 200×2/)
    expect(r.stdout).toMatch(/GET +\/small +2 .* 200×2/)
  }, 90_000)

  it('refuses a --max-body that is not a size, with the usage exit code', async () => {
    const r = await runBin(LOADS_RUNNER, ['big.Big.test_big', '--max-body', '12 parsecs'], { cwd: dir })
    expect(r.code).toBe(2)
    expect(r.stderr).toContain("--max-body expects a size like 1048576, 500kB, 64MB, 64MiB or 1GiB: got '12 parsecs'")
    expect(r.stderr).not.toMatch(/\n\s+at /)
  }, 60_000)
})
