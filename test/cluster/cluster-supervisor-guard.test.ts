/**
 * The supervisor guards its folder and takes its children with it: a second `loads-cluster
 * start` on the same folder is refused naming the running one (its credentials untouched), and a
 * supervisor killed with SIGKILL leaves no nats-server and no agent behind (the agents' lifeline
 * pipe closes; nats-server gets its parent-death signal), nor an agent's temp folder.
 */
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { agentFolder, LOADS_CLUSTER, spawnTimed } from '../helpers/agents.js'
import { runBin } from '../helpers/cli.js'
import { freePort } from '../helpers/nats-server.js'
import { testTemp } from '../helpers/temp.js'
import { isAlive, readState } from '../../src/cluster/supervisor.js'

async function until(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (check()) return true
    await new Promise((r) => setTimeout(r, 200))
  }
  return check()
}

describe('loads-cluster start', () => {
  it('refuses a second start on the same folder, naming the running supervisor; a SIGKILLed supervisor takes nats-server and its agents with it', async () => {
    const dir = testTemp('loads-cluster-guard-')
    const env = { LOADS_CLUSTER_DIR: dir }
    const [port, otherPort] = [await freePort(), await freePort()]
    const first = spawnTimed(LOADS_CLUSTER, ['start', '--agents', '1', '--workers', '1', '--port', String(port), '--dir', dir], { cwd: dir, env, timeoutMs: 150_000 })
    try {
      await first.waitFor(/^loads cluster running/, 90_000)
      const credentials = readFileSync(path.join(dir, 'credentials.json'), 'utf8')

      for (const extra of [[], ['--daemon']]) {
        const second = await runBin(LOADS_CLUSTER, ['start', '--agents', '1', '--port', String(otherPort), '--dir', dir, ...extra], { cwd: dir, env, timeoutMs: 60_000 })
        const what = `${extra.join(' ')}\n${second.stdout}${second.stderr}`
        expect(second.code, what).toBe(2)
        expect(second.stderr, what).toContain(`error: a cluster is already running from ${dir}: supervisor pid ${first.pid}, broker nats://127.0.0.1:${port}`)
        expect(second.stderr, what).toContain(`hint: stop it with \`loads-cluster stop --dir ${dir}\``)
        expect(second.stderr, what).not.toMatch(/\n\s+at /)
      }
      // The running cluster is untouched: same credentials, same state, still answering.
      expect(readFileSync(path.join(dir, 'credentials.json'), 'utf8')).toBe(credentials)
      const state = readState(dir)!
      expect(state.pid).toBe(first.pid)
      const status = await runBin(LOADS_CLUSTER, ['status', '--dir', dir], { cwd: dir, env, timeoutMs: 60_000 })
      expect(status.code, status.stdout + status.stderr).toBe(0)
      expect(status.stdout).toContain('agents: 1 connected (1 supervised here)')

      const agentPid = state.agents[0]!.pid!
      const natsPid = state.natsPid!
      first.kill('SIGKILL')
      await first.done
      // No process outlives its supervisor; the agent stopped politely (and removed its folder).
      expect(await until(() => !isAlive(natsPid), 20_000), `nats-server pid ${natsPid}`).toBe(true)
      expect(await until(() => !isAlive(agentPid), 30_000), `agent pid ${agentPid}`).toBe(true)
      expect(readFileSync(path.join(dir, 'logs', 'agent-0.log'), 'utf8')).toContain('the supervisor (loads-cluster) is gone: stopping the agent')
      expect(existsSync(agentFolder({}, agentPid))).toBe(false)
      const after = await runBin(LOADS_CLUSTER, ['status', '--dir', dir], { cwd: dir, env })
      expect(after.code).toBe(1)
      expect(after.stdout).toContain('no cluster running')
    } finally {
      first.kill('SIGKILL')
      const state = readState(dir)
      for (const pid of [state?.natsPid, ...(state?.agents.map((a) => a.pid) ?? [])]) if (pid && isAlive(pid)) process.kill(pid, 'SIGKILL')
    }
  }, 240_000)
})
