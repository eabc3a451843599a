import { spawn, type ChildProcess } from 'node:child_process'
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import os from 'node:os'
import path from 'node:path'

export const NATS_SERVER = '/usr/sbin/nats-server'

export interface NatsServerOptions {
  /** Address to listen on; 127.0.0.1 unless a namespace test says otherwise. */
  host?: string
  /** A fixed port (a restart keeps it); default: a free one. */
  port?: number
  user?: string
  password?: string
  /** nats-server's max_payload; default its own (1 MB). */
  maxPayload?: string
  /** Run inside this network namespace (`ip netns exec NAME …`). */
  netns?: string
  /** TLS for clients: the server's certificate and key (PEM). */
  tls?: { cert: string; key: string }
  /** A config file to copy beside ours and include (e.g. deploy/nats/loads-permissions.conf). */
  include?: string
  /** Environment of nats-server (variables its config refers to). */
  env?: NodeJS.ProcessEnv
}

/** A real nats-server with JetStream on a file store, for one test file. */
export interface NatsServer {
  url: string
  host: string
  port: number
  storeDir: string
  readonly pid: number
  /** Broker options a test passes to the cluster code (credentials included). */
  env: NodeJS.ProcessEnv
  /** Kills the server (SIGKILL by default: nothing gets flushed politely). */
  kill(signal?: NodeJS.Signals): Promise<void>
  /** Starts it again on the same port with the same store: streams survive. */
  restart(): Promise<void>
  stop(): Promise<void>
}

/**
 * A free TCP port: nats-server needs a concrete one (`-p 0` would pick one we could not learn
 * without parsing logs), so bind port 0, read it, and let go.
 */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, host, resolve))
  const port = (server.address() as { port: number }).port
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

export async function startNatsServer(opts: NatsServerOptions = {}): Promise<NatsServer> {
  const host = opts.host ?? '127.0.0.1'
  const port = opts.port ?? (await freePort(opts.netns ? '127.0.0.1' : host))
  const dir = mkdtempSync(path.join(os.tmpdir(), 'loads-nats-'))
  const storeDir = path.join(dir, 'store')
  const conf = path.join(dir, 'nats.conf')
  const lines = [
    `listen: "${host}:${port}"`,
    `jetstream { store_dir: ${JSON.stringify(storeDir)} }`,
    ...(opts.maxPayload ? [`max_payload: ${opts.maxPayload}`] : []),
    ...(opts.user ? [`authorization { user: ${JSON.stringify(opts.user)}, password: ${JSON.stringify(opts.password ?? '')} }`] : []),
    ...(opts.tls ? [`tls { cert_file: ${JSON.stringify(path.join(dir, 'cert.pem'))}, key_file: ${JSON.stringify(path.join(dir, 'key.pem'))} }`] : []),
    ...(opts.include ? [`include ./${path.basename(opts.include)}`] : []),
  ]
  if (opts.tls) {
    writeFileSync(path.join(dir, 'cert.pem'), opts.tls.cert)
    writeFileSync(path.join(dir, 'key.pem'), opts.tls.key)
  }
  if (opts.include) copyFileSync(opts.include, path.join(dir, path.basename(opts.include)))
  writeFileSync(conf, `${lines.join('\n')}\n`)
  let child: ChildProcess = await launch(conf, opts.netns, opts.env)
  const env: NodeJS.ProcessEnv = { LOADS_BROKER: `${opts.tls ? 'tls' : 'nats'}://${host}:${port}` }
  if (opts.user) {
    env.LOADS_BROKER_USER = opts.user
    env.LOADS_BROKER_PASSWORD = opts.password ?? ''
  }
  const kill = async (signal: NodeJS.Signals = 'SIGKILL'): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
    child.kill(signal)
    await exited
  }
  return {
    url: `${opts.tls ? 'tls' : 'nats'}://${host}:${port}`,
    host,
    port,
    storeDir,
    get pid() {
      return child.pid!
    },
    env,
    kill,
    restart: async () => {
      await kill()
      child = await launch(conf, opts.netns, opts.env)
    },
    stop: async () => {
      await kill('SIGTERM')
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** Spawns nats-server and resolves once it says it is ready (bounded: 10 s). */
function launch(conf: string, netns: string | undefined, env: NodeJS.ProcessEnv = {}): Promise<ChildProcess> {
  const [cmd, args] = netns ? ['ip', ['netns', 'exec', netns, NATS_SERVER, '-c', conf]] : [NATS_SERVER, ['-c', conf]]
  const child = spawn(cmd, args as string[], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } })
  return new Promise((resolve, reject) => {
    let log = ''
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`nats-server did not start in 10 s:\n${log}`))
    }, 10_000)
    child.stderr!.on('data', (d: Buffer) => {
      // Keep draining stderr for the server's whole life (a full pipe would block it), keep little.
      log = (log + d.toString()).slice(-8192)
      if (log.includes('Server is ready')) {
        clearTimeout(timer)
        resolve(child)
      }
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`nats-server exited (${code}):\n${log}`))
    })
  })
}
