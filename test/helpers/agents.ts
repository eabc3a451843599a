import { spawn, type ChildProcess } from 'node:child_process'
import { rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { discoverAgents } from '../../src/cluster/discover.js'
import { connectBroker } from '../../src/cluster/nats-connection.js'
import { safeToken, type AgentInfo } from '../../src/cluster/protocol.js'
import { ROOT } from './cli.js'
import { removeKilledRunFolders, testTemp } from './temp.js'
import type { NatsServer } from './nats-server.js'

export const LOADS_AGENT = path.join(ROOT, 'bin', 'loads-agent.js')
export const LOADS_CLUSTER = path.join(ROOT, 'bin', 'loads-cluster.js')

/** The cluster tests' site.ts: one GET of the server URL and one assertion per run. */
export const SITE_TEST = `import { TestCase } from 'loads-runner'
export class Site extends TestCase {
  async test_hit() {
    const res = await this.session.get('/')
    this.assertEqual(res.status, 200)
  }
}
`

/** The environment of every cluster process of a test: the broker's, and no ~/.loads credentials. */
export function clusterEnv(server: Pick<NatsServer, 'env'>, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { LOADS_CLUSTER_DIR: testTemp('loads-nocluster-'), ...server.env, ...extra }
}

/** A real `loads-agent` process. */
export interface AgentProcess {
  readonly child: ChildProcess
  readonly pid: number
  /** Its stderr so far (its log). */
  log(): string
  /** Resolves when it exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  kill(signal?: NodeJS.Signals): Promise<void>
}

export function startAgent(env: NodeJS.ProcessEnv, args: string[] = [], netns?: string): AgentProcess {
  const argv = [LOADS_AGENT, '--workers', '1', ...args]
  const [cmd, cmdArgs] = netns ? ['ip', ['netns', 'exec', netns, process.execPath, ...argv]] : [process.execPath, argv]
  const child = spawn(cmd, cmdArgs as string[], { cwd: ROOT, env: { ...process.env, ...env, FORCE_COLOR: '0' }, stdio: ['ignore', 'pipe', 'pipe'] })
  let log = ''
  child.stdout!.on('data', (d: Buffer) => (log += d.toString()))
  child.stderr!.on('data', (d: Buffer) => (log += d.toString()))
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })))
  // An agent removes its bundle folder when it stops; one a test ends with SIGKILL cannot.
  // Only then is it removed here, so the suite's temp check still sees an agent that stopped well
  // and left its folder.
  if (!netns) exited.then(({ signal }) => signal === 'SIGKILL' && rmSync(agentFolder(env, child.pid!), { recursive: true, force: true }))
  return {
    child,
    pid: child.pid!,
    log: () => log,
    exited,
    kill: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal)
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000)
      await exited
      clearTimeout(timer)
    },
  }
}

/** The folder an agent with this pid keeps its bundles in (src/cluster/agent.ts). */
export function agentFolder(env: NodeJS.ProcessEnv, pid: number): string {
  const tmp = env['TMPDIR'] ?? process.env['TMPDIR'] ?? os.tmpdir()
  const uid = typeof process.getuid === 'function' ? process.getuid() : os.userInfo().username
  return path.join(tmp, `loads-${uid}`, `agent-${safeToken(`${os.hostname()}-${pid}`)}`)
}

export function startAgents(n: number, env: NodeJS.ProcessEnv, args: string[] = []): AgentProcess[] {
  return Array.from({ length: n }, () => startAgent(env, args))
}

/** Asks the broker (in-process) until `ready(agents)` holds; bounded. */
export async function waitForAgents(
  server: Pick<NatsServer, 'url' | 'env'>,
  ready: (agents: AgentInfo[]) => boolean,
  // Agents take 20 s and more to start on a loaded machine (load 20+ on 2 cores).
  timeoutMs = 60_000,
): Promise<AgentInfo[]> {
  const nc = await connectBroker(
    {
      servers: [server.url],
      ...(server.env.LOADS_BROKER_USER ? { user: server.env.LOADS_BROKER_USER } : {}),
      ...(server.env.LOADS_BROKER_PASSWORD ? { password: server.env.LOADS_BROKER_PASSWORD } : {}),
      ...(server.env.LOADS_BROKER_TLS_CA ? { tlsCaFile: server.env.LOADS_BROKER_TLS_CA } : {}),
    },
    { name: 'test' },
  )
  try {
    const deadline = Date.now() + timeoutMs
    let agents: AgentInfo[] = []
    while (Date.now() < deadline) {
      agents = await discoverAgents(nc, 300)
      if (ready(agents)) return agents
    }
    throw new Error(`agents not ready in ${timeoutMs} ms: ${JSON.stringify(agents.map((a) => [a.agentId, a.state]))}`)
  } finally {
    await nc.drain().catch(() => {})
  }
}

/** Ready when exactly these pids answer, idle. */
export function idle(agents: AgentProcess[]): (found: AgentInfo[]) => boolean {
  const pids = new Set(agents.map((a) => a.pid))
  return (found) => found.filter((a) => pids.has(a.pid) && a.state === 'idle').length === pids.size
}

/** The summary's `Hits: N` figure. */
export function reportedHits(stdout: string): number | undefined {
  const m = /^Hits: (\d+)/m.exec(stdout)
  return m ? Number(m[1]) : undefined
}

/** One agent's line under the summary: hits and state. */
export function agentLine(stdout: string, agentId: string): { hits: number; state: string } | undefined {
  const m = new RegExp(`^  ${agentId}\\s+(\\d+)\\s+\\d+\\s+\\d+\\s+(.*)$`, 'm').exec(stdout)
  return m ? { hits: Number(m[1]), state: m[2]!.trim() } : undefined
}

/** A runner process whose output lines are time-stamped as they arrive. */
export interface TimedProcess {
  readonly pid: number
  readonly lines: { atMs: number; stream: 'stdout' | 'stderr'; text: string }[]
  stdout(): string
  stderr(): string
  /** Resolves with the first line matching `re` (and when it came), bounded by `timeoutMs`. */
  waitFor(re: RegExp, timeoutMs?: number): Promise<{ atMs: number; text: string }>
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  kill(signal: NodeJS.Signals): void
}

export function spawnTimed(bin: string, args: string[], opts: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs?: number }): TimedProcess {
  const child = spawn(process.execPath, [bin, ...args], { cwd: opts.cwd, env: { ...process.env, ...opts.env, FORCE_COLOR: '0' }, stdio: ['ignore', 'pipe', 'pipe'] })
  const lines: TimedProcess['lines'] = []
  const out = { stdout: '', stderr: '' }
  const waiters: { re: RegExp; resolve: (l: { atMs: number; text: string }) => void }[] = []
  for (const stream of ['stdout', 'stderr'] as const) {
    let partial = ''
    child[stream]!.on('data', (d: Buffer) => {
      const text = d.toString()
      out[stream] += text
      const parts = (partial + text).split('\n')
      partial = parts.pop()!
      for (const line of parts) {
        const entry = { atMs: Date.now(), stream, text: line }
        lines.push(entry)
        for (const w of [...waiters]) {
          if (w.re.test(line)) {
            waiters.splice(waiters.indexOf(w), 1)
            w.resolve(entry)
          }
        }
      }
    })
  }
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000)
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      clearTimeout(timer)
      removeKilledRunFolders(opts.env, child.pid, signal)
      resolve({ code, signal })
    }),
  )
  return {
    pid: child.pid!,
    lines,
    stdout: () => out.stdout,
    stderr: () => out.stderr,
    waitFor: (re, timeoutMs = 30_000) => {
      const seen = lines.find((l) => re.test(l.text))
      if (seen) return Promise.resolve(seen)
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no line matching ${re} in ${timeoutMs} ms:\n${out.stdout}\n${out.stderr}`)), timeoutMs)
        waiters.push({ re, resolve: (l) => (clearTimeout(t), resolve(l)) })
      })
    },
    done,
    kill: (signal) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal)
    },
  }
}
