/**
 * `loads-cluster`: what circus and `loads.ini` did for the original — a broker and N agents on
 * this machine, supervised (a crashed agent is restarted), with generated credentials, and a
 * state file so `status` and `stop` find them.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { chmodSync, existsSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { UsageError } from '../errors.js'
import { makeFolder } from '../util/make-folder.js'
import type { ClusterConfig } from './cluster-config.js'
import { acquireClusterLock, checkClusterLock, releaseClusterLock } from './cluster-lock.js'
import { discoverAgents } from './discover.js'
import { connectBroker, readCredentialsFile, type CredentialsFile } from './nats-connection.js'
import { findNatsServer, natsServerConfig, spawnNatsServer, waitForBroker } from './nats-server-process.js'
import { safeToken } from './protocol.js'

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin')
export const AGENT_BIN = path.join(BIN, 'loads-agent.js')
export const CLUSTER_BIN = path.join(BIN, 'loads-cluster.js')

/** What `status` and `stop` read: written once the broker and every agent are up. */
export interface ClusterState {
  pid: number
  startedMs: number
  broker: string
  credentials: string
  natsPid: number | undefined
  agents: { index: number; pid: number | undefined; restarts: number }[]
  dir: string
}

export function paths(dir: string): { state: string; credentials: string; natsConf: string; store: string; logs: string } {
  return {
    state: path.join(dir, 'cluster.json'),
    credentials: path.join(dir, 'credentials.json'),
    natsConf: path.join(dir, 'nats.conf'),
    store: path.join(dir, 'jetstream'),
    logs: path.join(dir, 'logs'),
  }
}

/** Restarts allowed in a minute before an agent is given a longer pause. */
const RESTART_BURST = 5
const RESTART_DELAY_MS = 1000
const RESTART_BACKOFF_MS = 30_000
const STOP_GRACE_MS = 10_000

interface Supervised {
  index: number
  child: ChildProcess | undefined
  restarts: number
  recent: number[]
  timer: NodeJS.Timeout | undefined
}

export class ClusterSupervisor {
  readonly #files: ReturnType<typeof paths>
  #nats: ChildProcess | undefined
  #agents: Supervised[] = []
  #stopping = false
  #credentials: CredentialsFile | undefined
  #natsBinary = ''
  /** This process holds the folder's lock: its files are ours to write and remove. */
  #locked = false

  constructor(
    private readonly config: ClusterConfig,
    private readonly env: NodeJS.ProcessEnv,
    private readonly log: (line: string) => void,
  ) {
    this.#files = paths(config.dir)
  }

  get files(): ReturnType<typeof paths> {
    return this.#files
  }

  /** Starts the broker and the agents; resolves once every agent answers a ping. */
  async start(): Promise<ClusterState> {
    this.#natsBinary = findNatsServer(this.config.natsServer, this.env)
    makeFolder(this.config.dir, 0o700, 'cluster folder')
    // One cluster per folder: a second one would overwrite our credentials and share our store.
    acquireClusterLock(this.config.dir, brokerUrl(this.config))
    this.#locked = true
    makeFolder(this.#files.logs, 0o700, 'cluster log folder')
    this.#credentials = this.#writeCredentials()
    await this.#startBroker()
    for (let index = 0; index < this.config.agents; index++) {
      const s: Supervised = { index, child: undefined, restarts: 0, recent: [], timer: undefined }
      this.#agents.push(s)
      this.#spawnAgent(s)
    }
    await this.#waitForAgents()
    const state = this.state()
    writeFileSync(this.#files.state, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 })
    return state
  }

  state(): ClusterState {
    return {
      pid: process.pid,
      startedMs: Date.now(),
      broker: this.#credentials!.servers[0]!,
      credentials: this.#files.credentials,
      natsPid: this.#nats?.pid,
      agents: this.#agents.map((a) => ({ index: a.index, pid: a.child?.pid, restarts: a.restarts })),
      dir: this.config.dir,
    }
  }

  /** Stops the agents (they store their final results), then the broker. */
  async stop(): Promise<void> {
    this.#stopping = true
    for (const a of this.#agents) clearTimeout(a.timer)
    await Promise.all(this.#agents.map((a) => stopChild(a.child)))
    await stopChild(this.#nats)
    if (!this.#locked) return
    rmSync(this.#files.state, { force: true })
    releaseClusterLock(this.config.dir)
    this.#locked = false
  }

  /** Reuses the password of an earlier start, so agents on other hosts keep working. */
  #writeCredentials(): CredentialsFile {
    const url = brokerUrl(this.config)
    let password: string | undefined
    if (existsSync(this.#files.credentials)) {
      try {
        password = readCredentialsFile(this.#files.credentials).password
      } catch {
        password = undefined
      }
    }
    const credentials: CredentialsFile = { servers: [url], user: 'loads', password: password ?? randomBytes(24).toString('base64url') }
    writeFileSync(this.#files.credentials, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600 })
    chmodSync(this.#files.credentials, 0o600)
    return credentials
  }

  async #startBroker(): Promise<void> {
    const conf = natsServerConfig({
      host: this.config.host,
      port: this.config.port,
      maxPayload: this.config.maxPayload,
      storeDir: this.#files.store,
      user: this.#credentials!.user!,
      password: this.#credentials!.password!,
      serverName: safeToken(`loads_${os.hostname()}_${this.config.port}`),
    })
    writeFileSync(this.#files.natsConf, conf, { mode: 0o600 })
    chmodSync(this.#files.natsConf, 0o600)
    const logFile = path.join(this.#files.logs, 'nats-server.log')
    const child = spawnNatsServer(this.#natsBinary, this.#files.natsConf, logFile, true)
    this.#nats = child
    await waitForBroker(child, this.config.host === '0.0.0.0' ? '127.0.0.1' : this.config.host, this.config.port, logFile)
    this.log(`broker: nats-server pid ${child.pid} on ${this.#credentials!.servers[0]}`)
    child.once('exit', (code, signal) => {
      if (this.#stopping) return
      this.log(`nats-server exited (${signal ?? `code ${code}`}); restarting it`)
      setTimeout(() => {
        if (!this.#stopping) void this.#startBroker().catch((err: Error) => this.log(`could not restart nats-server: ${err.message}`))
      }, RESTART_DELAY_MS)
    })
  }

  #spawnAgent(s: Supervised): void {
    // --lifeline: the agent stops when its stdin (a pipe from us) closes — as it does when this
    // supervisor dies, even by SIGKILL — so that no agent outlives its cluster.
    const args = [AGENT_BIN, '--credentials', this.#files.credentials, '--lifeline']
    if (this.config.workers !== undefined) args.push('--workers', String(this.config.workers))
    const log = openSync(path.join(this.#files.logs, `agent-${s.index}.log`), 'a')
    const child = spawn(process.execPath, args, { stdio: ['pipe', log, log], env: { ...this.env, LOADS_CREDENTIALS: this.#files.credentials } })
    child.stdin!.on('error', () => {})
    s.child = child
    child.once('exit', (code, signal) => {
      if (this.#stopping) return
      const now = Date.now()
      s.recent = [...s.recent.filter((t) => now - t < 60_000), now]
      s.restarts++
      const delay = s.recent.length > RESTART_BURST ? RESTART_BACKOFF_MS : RESTART_DELAY_MS
      this.log(`agent ${s.index} (pid ${child.pid}) exited (${signal ?? `code ${code}`}); restarting it in ${delay / 1000} s`)
      s.timer = setTimeout(() => {
        if (this.#stopping) return
        this.#spawnAgent(s)
        this.#saveState()
      }, delay)
    })
  }

  #saveState(): void {
    if (existsSync(this.#files.state)) writeFileSync(this.#files.state, `${JSON.stringify(this.state(), null, 2)}\n`, { mode: 0o600 })
  }

  async #waitForAgents(timeoutMs = 30_000): Promise<void> {
    const nc = await connectBroker({ servers: this.#credentials!.servers, user: this.#credentials!.user!, password: this.#credentials!.password! }, { name: 'loads-cluster' })
    try {
      const pids = new Set(this.#agents.map((a) => a.child?.pid))
      const deadline = Date.now() + timeoutMs
      while (Date.now() < deadline) {
        const seen = (await discoverAgents(nc, 400)).filter((a) => pids.has(a.pid) && a.host === os.hostname())
        if (seen.length >= this.#agents.length) return
      }
      throw new UsageError(`the agents did not all connect within ${timeoutMs / 1000} s`, `see the logs in ${this.#files.logs}`, 'LOADS_ERR_CLUSTER_START')
    } finally {
      await nc.drain().catch(() => {})
    }
  }
}

/** The URL runners and agents use: the listening address, or this host's name for "any". */
function brokerUrl(config: ClusterConfig): string {
  const host = config.host === '0.0.0.0' || config.host === '::' ? os.hostname() : config.host
  return `nats://${host.includes(':') ? `[${host}]` : host}:${config.port}`
}

/** SIGTERM, then SIGKILL after a grace period; resolves when the process is gone. */
async function stopChild(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  child.kill('SIGTERM')
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), STOP_GRACE_MS)))
  if ((await Promise.race([exited, timeout])) === 'timeout') {
    child.kill('SIGKILL')
    await exited
  }
  clearTimeout(timer)
}

export function readState(dir: string): ClusterState | undefined {
  try {
    return JSON.parse(readFileSync(paths(dir).state, 'utf8')) as ClusterState
  } catch {
    return undefined
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * `loads-cluster start --daemon`: the same start in a detached process of its own; resolves once
 * it wrote its state (every agent up), or fails with the end of its log.
 */
export async function startDaemon(args: string[], dir: string, env: NodeJS.ProcessEnv, timeoutMs = 45_000): Promise<ClusterState> {
  makeFolder(dir, 0o700, 'cluster folder')
  checkClusterLock(dir)
  makeFolder(path.join(dir, 'logs'), 0o700, 'cluster log folder')
  const logFile = path.join(dir, 'logs', 'cluster.log')
  const log = openSync(logFile, 'a')
  rmSync(paths(dir).state, { force: true })
  const child = spawn(process.execPath, [CLUSTER_BIN, 'start', ...args], { detached: true, stdio: ['ignore', log, log], env })
  child.unref()
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const state = readState(dir)
    if (state && state.pid === child.pid) return state
    if (child.exitCode !== null || child.signalCode !== null) break
    await new Promise((r) => setTimeout(r, 200))
  }
  const text = existsSync(logFile) ? readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-8).join('\n') : ''
  throw new UsageError(`the cluster did not start:\n${text}`, `see ${logFile}`, 'LOADS_ERR_CLUSTER_START')
}

/** `loads-cluster stop`: asks the supervisor (by its recorded pid) to stop, and waits for it. */
export async function stopCluster(dir: string, timeoutMs = 30_000): Promise<'stopped' | 'not running'> {
  const state = readState(dir)
  if (!state || !isAlive(state.pid)) {
    rmSync(paths(dir).state, { force: true })
    return 'not running'
  }
  process.kill(state.pid, 'SIGTERM')
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline && isAlive(state.pid)) await new Promise((r) => setTimeout(r, 100))
  if (isAlive(state.pid)) throw new UsageError(`the cluster (pid ${state.pid}) did not stop within ${timeoutMs / 1000} s`, undefined, 'LOADS_ERR_CLUSTER_STOP')
  return 'stopped'
}
