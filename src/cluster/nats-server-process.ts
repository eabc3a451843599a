/**
 * The broker `loads-cluster` runs: Debian's (or anyone's) `nats-server`, with JetStream, a
 * generated password, and a message size big enough for test bundles.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { accessSync, constants, existsSync, openSync, readFileSync } from 'node:fs'
import { connect as tcpConnect } from 'node:net'
import path from 'node:path'
import { UsageError } from '../errors.js'

const INSTALL = 'sudo apt-get install nats-server (Debian, Ubuntu) · brew install nats-server (macOS) · or https://docs.nats.io/running-a-nats-service/introduction/installation'
const SEARCH_DIRS = ['/usr/sbin', '/usr/local/sbin', '/usr/local/bin', '/usr/bin', '/opt/homebrew/bin']

/** The nats-server binary: the one configured, else the first in PATH or the usual places. */
export function findNatsServer(configured: string | undefined, env: NodeJS.ProcessEnv): string {
  if (configured !== undefined) {
    if (isExecutable(configured)) return configured
    throw new UsageError(`nats-server not found at ${configured}`, `fix the path, or leave it out to search PATH; to install it: ${INSTALL}`, 'LOADS_ERR_NO_NATS_SERVER')
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

/** Starts nats-server with a config file, its output appended to `logFile`. */
export function spawnNatsServer(binary: string, configFile: string, logFile: string): ChildProcess {
  const log = openSync(logFile, 'a')
  return spawn(binary, ['-c', configFile], { stdio: ['ignore', log, log] })
}

/**
 * Waits until the broker accepts TCP connections (bounded), failing early — with the end of its
 * log — if the process exits first (port taken, bad config).
 */
export async function waitForBroker(child: ChildProcess, host: string, port: number, logFile: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new UsageError(`nats-server exited at start:\n${tail(logFile, 8)}`, `see ${logFile}`, 'LOADS_ERR_BROKER_START')
    }
    if (await canConnect(host, port)) {
      // Our process, not another broker already on the port: it must still be alive a moment later.
      await new Promise((r) => setTimeout(r, 200))
      if (child.exitCode === null && child.signalCode === null) return
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

function tail(file: string, lines: number): string {
  if (!existsSync(file)) return '(no log)'
  return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n')
}
