/**
 * `loads-cluster start` with bad settings: each refused before anything starts, exit 2, a message
 * naming the setting, no stack trace, and no spinning (`--dir /proc/x` used to loop at 100% CPU
 * in Node's recursive mkdir).
 */
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { LOADS_CLUSTER } from '../helpers/agents.js'
import { runBin } from '../helpers/cli.js'
import { testTemp } from '../helpers/temp.js'

const CASES: { args: string[]; says: RegExp }[] = [
  { args: ['--port', '99999'], says: /--port expects a port number from 0 to 65535: got '99999'/ },
  { args: ['--port', '0'], says: /the broker port must be from 1 to 65535: got 0/ },
  { args: ['--nats-server', '/bin/true'], says: /\/bin\/true is not nats-server \(`true --version` said: true/ },
  { args: ['--nats-server', '/tmp'], says: /is not nats-server/ },
  { args: ['--max-payload', '8XB'], says: /--max-payload expects a size such as 8MB, 512KB or 1048576: got '8XB'/ },
  { args: ['--max-payload', '1GB'], says: /--max-payload must be from 64KB to 64MB \(nats-server's ceiling\): got '1GB'/ },
  { args: ['--dir', '/proc/loads-x'], says: /cannot create the cluster folder \/proc\/loads-x: \/proc does not accept new folders/ },
  { args: ['--dir', '/proc/loads-x', '--daemon'], says: /cannot create the cluster folder \/proc\/loads-x: \/proc does not accept new folders/ },
]

describe('loads-cluster start with bad settings', () => {
  it('refuses each with exit 2 and a clear message, no stack trace, in seconds', async () => {
    const cwd = testTemp('loads-cluster-bad-')
    writeFileSync(path.join(cwd, 'a-file'), 'not a folder')
    const cases = [...CASES, { args: ['--dir', path.join(cwd, 'a-file', 'cluster')], says: new RegExp(`cannot create the cluster folder .*: ${path.join(cwd, 'a-file')} is a file, not a folder`) }]
    // Three at a time: the machine is shared.
    for (let i = 0; i < cases.length; i += 3) {
      const batch = cases.slice(i, i + 3)
      const results = await Promise.all(
        batch.map((c) => runBin(LOADS_CLUSTER, ['start', '--agents', '1', '--dir', path.join(cwd, 'cluster'), ...c.args], { cwd, env: { LOADS_CLUSTER_DIR: path.join(cwd, 'unused') }, timeoutMs: 30_000 })),
      )
      results.forEach((r, j) => {
        const c = batch[j]!
        const what = `${c.args.join(' ')}:\n${r.stdout}${r.stderr}`
        expect(r.signal, what).toBeNull()
        expect(r.code, what).toBe(2)
        expect(r.stderr, what).toMatch(c.says)
        expect(r.stderr, what).not.toMatch(/\n\s+at |internal error/)
        expect(r.stdout, what).not.toContain('broker:')
      })
    }
  }, 120_000)
})
