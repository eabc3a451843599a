/**
 * The broker `loads-cluster` runs: Debian's (or anyone's) `nats-server`, with JetStream, a
 * generated password, and a message size big enough for test bundles.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { accessSync, constants, existsSync, openSync, readFileSync, statSync } from 'node:fs'
import { connect as tcpConnect } from 'node:net'
import path from 'node:path'
import { UsageError } from '../errors.js'

const INSTALL = 'sudo apt-get install nats-server (Debian, Ubuntu) · brew install nats-server (macOS) · or https://docs.nats.io/running-a-nats-service/introduction/installation'
const SEARCH_DIRS = ['/usr/sbin', '/usr/local/sbin', '/usr/local/bin', '/usr/bin', '/opt/homebrew/bin']

/** The nats-server binary: the one configured, else the first in PATH or the usual places. */
export function findNatsServer(configured: string | undefined, env: NodeJS.ProcessEnv): string {
  if (configured !== undefined) {
    if (!isExecutable(configured)) {
      throw new UsageError(`nats-server not found at ${configured}`, `fix the path, or leave it out to search PATH; to install it: ${INSTALL}`, 'LOADS_ERR_NO_NATS_SERVER')
    }
    checkIsNatsServer(configured)
    return configured
  }
  const dirs = [...(env.PATH ?? '').split(path.delimiter).filter(Boolean), ...SEARCH_DIRS]
  for (const dir of dirs) {
    const candidate = path.join(dir, 'nats-server')
    if (isExecutable(candidate)) return candidate
  }
  throw new UsageError(
    'nats-server is not installed (looked in PATH and /usr/sbin, /usr/local/bin …): the cluster runs on it',
    `install it: ${INSTALL}`,
    'LOADS_ERR_NO_NATS_SERVER',
  )
}

/** `--nats-server` must name nats-server itself: it says so in `--version` (`nats-server: v2.9.10`). */
function checkIsNatsServer(binary: string): void {
  let said: string
  try {
    said = execFileSync(binary, ['--version'], { timeout: 5000, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stdout?: string; stderr?: string }
    said = `${e.stdout ?? ''}${e.stderr ?? ''}`.trim() || (e.code ?? e.message)
  }
  if (/nats-server/i.test(said)) return
  throw new UsageError(
    `${binary} is not nats-server (\`${path.basename(binary)} --version\` said: ${said.trim().split('\n')[0]?.slice(0, 120) || 'nothing'})`,
    `--nats-server names the nats-server program itself; to install it: ${INSTALL}`,
    'LOADS_ERR_NO_NATS_SERVER',
  )
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK)
    return true
  } catch {
    return false
  }
}

export interface BrokerConfig {
  host: string
  port: number
  maxPayload: string
  storeDir: string
  user: string
  password: string
  serverName: string
}

/** nats-server's own config format; values quoted so no generated text can break it. */
export function natsServerConfig(c: BrokerConfig): string {
  return `# Written by loads-cluster: the broker of a Loads cluster. Regenerated on each start.
server_name: ${JSON.stringify(c.serverName)}
listen: ${JSON.stringify(`${c.host.includes(':') ? `[${c.host}]` : c.host}:${c.port}`)}
max_payload: ${c.maxPayload}
jetstream {
  store_dir: ${JSON.stringify(c.storeDir)}
}
authorization {
  user: ${JSON.stringify(c.user)}
  password: ${JSON.stringify(c.password)}
}
`
}

/** Where each started server's output begins in its (appended) log, to tell this start's lines. */
const logStart = new WeakMap<ChildProcess, number>()

/** Why a server could not even be started (spawn's own error), per process. */
const spawnErrors = new WeakMap<ChildProcess, Error>()

/**
 * Starts nats-server with a config file, its output appended to `logFile`. With `lifeline`, on
 * Linux, through `setpriv --pdeathsig TERM` (util-linux): the kernel sends the server SIGTERM
 * when we die, even by SIGKILL, so no broker outlives its supervisor.
 */
export function spawnNatsServer(binary: string, configFile: string, logFile: string, lifeline = false): ChildProcess {
  const offset = existsSync(logFile) ? statSync(logFile).size : 0
  const log = openSync(logFile, 'a')
  const setpriv = lifeline ? findSetpriv() : undefined
  const [cmd, args] = setpriv ? [setpriv, ['--pdeathsig', 'TERM', '--', binary, '-c', configFile]] : [binary, ['-c', configFile]]
  const child = spawn(cmd, args, { stdio: ['ignore', log, log] })
  child.once('error', (err) => spawnErrors.set(child, err))
  logStart.set(child, offset)
  return child
}

/** util-linux's setpriv, where the system has it (Linux); its --pdeathsig is our lifeline. */
function findSetpriv(): string | undefined {
  if (process.platform !== 'linux') return undefined
  return ['/usr/bin/setpriv', '/bin/setpriv'].find(isExecutable)
}

/**
 * Waits until the broker accepts TCP connections (bounded), failing early — with the end of its
 * log — if the process exits first (port taken, bad config).
 */
export async function waitForBroker(child: ChildProcess, host: string, port: number, logFile: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let connectableSince: number | undefined
  while (Date.now() < deadline) {
    const spawnError = spawnErrors.get(child)
    if (spawnError) throw new UsageError(`nats-server could not be started: ${spawnError.message}`, `check --nats-server; see ${logFile}`, 'LOADS_ERR_BROKER_START')
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new UsageError(startFailure(logFile, logStart.get(child) ?? 0), `see ${logFile}`, 'LOADS_ERR_BROKER_START')
    }
    if (await canConnect(host, port)) {
      // Our process, not whatever else holds the port: it says so in its log ("Server is ready");
      // failing that (a server that does not log it), it must still be alive well after.
      if (logSince(logFile, logStart.get(child) ?? 0).includes('Server is ready')) return
      connectableSince ??= Date.now()
      if (Date.now() - connectableSince > 3000 && child.exitCode === null && child.signalCode === null) return
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new UsageError(`nats-server did not accept connections on ${host}:${port} within ${timeoutMs / 1000} s`, `see ${logFile}`, 'LOADS_ERR_BROKER_START')
}

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ host, port })
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}

/**
 * Why nats-server exited at start, from the lines it wrote this time: its fatal and error lines
 * first (a port in use comes after twenty lines of JetStream banner), else the last lines.
 */
export function startFailure(logFile: string, fromByte = 0): string {
  if (!existsSync(logFile)) return 'nats-server exited at start (no log)'
  const lines = logSince(logFile, fromByte).trimEnd().split('\n')
  // `[pid] 2026/12/02 06:00:52.986114 [FTL] Error listening on port: …`
  const errors = lines.filter((l) => /\[(FTL|ERR)\]/.test(l)).map((l) => l.replace(/^\[\d+\] \S+ \S+ \[(FTL|ERR)\] /, ''))
  if (errors.length > 0) return `nats-server could not start: ${errors.join('\n  ')}`
  return `nats-server exited at start:\n${lines.slice(-8).join('\n')}`
}

function logSince(logFile: string, fromByte: number): string {
  return existsSync(logFile) ? readFileSync(logFile).subarray(fromByte).toString('utf8') : ''
}
