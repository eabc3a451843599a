import path from 'node:path'
import { Command } from 'commander'
import { checkClusterConfig, CLUSTER_DEFAULTS, defaultClusterDir, readClusterIni, sampleClusterIni, type ClusterConfig } from '../cluster/cluster-config.js'
import { discoverAgents } from '../cluster/discover.js'
import { connectBroker, readCredentialsFile } from '../cluster/nats-connection.js'
import { ClusterSupervisor, isAlive, readState, startDaemon, stopCluster, type ClusterState } from '../cluster/supervisor.js'
import { ExitCode } from '../runner/exit-codes.js'
import { CliExit, type CliIO } from './cli-io.js'
import { positiveInt, tcpPort } from './options.js'

interface StartFlags {
  agents?: number
  daemon?: boolean
  config?: string
  dir?: string
  host?: string
  port?: number
  workers?: number
  maxPayload?: string
  natsServer?: string
}

const HELP = `
Examples:
  loads-cluster start --agents 5 --daemon     a broker and 5 agents in the background
  loads-runner example.TestWebSite.test_something -u 10:20:30 -c 20 --agents 5
  loads-cluster status
  loads-cluster stop
  loads-cluster start --config cluster.ini    the same settings from a file (loads-cluster sample-config)

The broker listens on 127.0.0.1 unless --host says otherwise, and requires the password written
to <dir>/credentials.json (mode 0600), which runners and agents of this machine read by default.
`

/** `loads cluster` / `loads-cluster`: a broker and N supervised agents on this machine. */
export function clusterCommand(io: CliIO): Command {
  const cluster = new Command('cluster').description('start, inspect or stop a local cluster: a NATS broker and supervised agents')
  cluster.addHelpText('after', HELP)

  cluster
    .command('start')
    .description('start nats-server (with JetStream and generated credentials) and N agents, and supervise them')
    .option('-a, --agents <n>', `agents to run (default ${CLUSTER_DEFAULTS.agents})`, positiveInt('--agents'))
    .option('--daemon', 'run in the background; return once every agent is up')
    .option('--config <file>', 'read the settings from an ini file (see `loads-cluster sample-config`)')
    .option('--dir <dir>', 'where the config, credentials, JetStream store and logs go (default ~/.loads/cluster, env LOADS_CLUSTER_DIR)')
    .option('--host <address>', `address the broker listens on (default ${CLUSTER_DEFAULTS.host}: this machine only)`)
    .option('--port <port>', `broker port, 1 to 65535 (default ${CLUSTER_DEFAULTS.port})`, tcpPort('--port'))
    .option('-w, --workers <n>', 'worker threads per agent (default: one per core)', positiveInt('--workers'))
    .option('--max-payload <size>', `largest NATS message (default ${CLUSTER_DEFAULTS.maxPayload})`)
    .option('--nats-server <path>', 'the nats-server binary (default: from PATH or /usr/sbin)')
    .action(async (flags: StartFlags) => {
      const config = clusterConfig(flags, io)
      if (flags.daemon) {
        const state = await startDaemon(daemonArgs(config), config.dir, io.env)
        printState(io, state, 'started in the background')
        throw new CliExit(ExitCode.OK)
      }
      const supervisor = new ClusterSupervisor(config, io.env, (line) => io.stdout.write(`${new Date().toISOString()} ${line}\n`))
      let state: ClusterState
      try {
        state = await supervisor.start()
      } catch (err) {
        await supervisor.stop()
        throw err
      }
      printState(io, state, 'running (Ctrl-C stops it)')
      await new Promise<void>((resolve) => {
        if (io.signal.aborted) resolve()
        io.signal.addEventListener('abort', () => resolve(), { once: true })
      })
      io.stdout.write('stopping the agents and the broker…\n')
      await supervisor.stop()
      io.stdout.write('stopped\n')
      throw new CliExit(ExitCode.OK)
    })

  cluster
    .command('status')
    .description('is the cluster running; its broker and agents (exit 1 when it is not running)')
    .option('--dir <dir>', 'the cluster directory (default ~/.loads/cluster)')
    .action(async (flags: { dir?: string }) => {
      const dir = path.resolve(io.cwd, flags.dir ?? defaultClusterDir(io.env))
      const state = readState(dir)
      if (!state || !isAlive(state.pid)) {
        io.stdout.write(`no cluster running from ${dir}\n`)
        throw new CliExit(ExitCode.TEST_FAILURES)
      }
      io.stdout.write(`cluster running: supervisor pid ${state.pid}, broker ${state.broker} (nats-server pid ${state.natsPid ?? '?'})\ncredentials: ${state.credentials}\n`)
      const creds = readCredentialsFile(state.credentials)
      const nc = await connectBroker({ servers: creds.servers, ...(creds.user ? { user: creds.user } : {}), ...(creds.password ? { password: creds.password } : {}) }, { name: 'loads-cluster status' })
      try {
        const agents = await discoverAgents(nc)
        io.stdout.write(`agents: ${agents.length} connected (${state.agents.length} supervised here)\n`)
        for (const a of agents) io.stdout.write(`  ${a.agentId}  ${a.state}${a.runId ? ` run ${a.runId}` : ''}  Loads ${a.version}  ${a.workers} workers\n`)
      } finally {
        await nc.drain().catch(() => {})
      }
      throw new CliExit(ExitCode.OK)
    })

  cluster
    .command('stop')
    .description('stop the agents (they store their results first) and the broker')
    .option('--dir <dir>', 'the cluster directory (default ~/.loads/cluster)')
    .action(async (flags: { dir?: string }) => {
      const dir = path.resolve(io.cwd, flags.dir ?? defaultClusterDir(io.env))
      const result = await stopCluster(dir)
      io.stdout.write(result === 'stopped' ? `cluster stopped (${dir})\n` : `no cluster running from ${dir}\n`)
      throw new CliExit(ExitCode.OK)
    })

  cluster
    .command('sample-config')
    .description('print a cluster.ini with every setting and its default')
    .action(() => {
      io.stdout.write(sampleClusterIni())
      throw new CliExit(ExitCode.OK)
    })
  return cluster
}

/** Defaults, then the ini file, then flags. */
function clusterConfig(flags: StartFlags, io: CliIO): ClusterConfig {
  const fromFile = flags.config !== undefined ? readClusterIni(path.resolve(io.cwd, flags.config)) : {}
  const pick = <K extends keyof ClusterConfig>(key: K, flag: ClusterConfig[K] | undefined): ClusterConfig[K] | undefined => flag ?? fromFile[key]
  return checkClusterConfig({
    dir: path.resolve(io.cwd, pick('dir', flags.dir) ?? defaultClusterDir(io.env)),
    host: pick('host', flags.host) ?? CLUSTER_DEFAULTS.host,
    port: pick('port', flags.port) ?? CLUSTER_DEFAULTS.port,
    maxPayload: pick('maxPayload', flags.maxPayload) ?? CLUSTER_DEFAULTS.maxPayload,
    agents: pick('agents', flags.agents) ?? CLUSTER_DEFAULTS.agents,
    workers: pick('workers', flags.workers),
    natsServer: pick('natsServer', flags.natsServer),
  })
}

/** The resolved settings as flags, for the background process. */
function daemonArgs(c: ClusterConfig): string[] {
  const args = ['--dir', c.dir, '--host', c.host, '--port', String(c.port), '--max-payload', c.maxPayload, '--agents', String(c.agents)]
  if (c.workers !== undefined) args.push('--workers', String(c.workers))
  if (c.natsServer !== undefined) args.push('--nats-server', c.natsServer)
  return args
}

function printState(io: CliIO, state: ClusterState, how: string): void {
  io.stdout.write(
    `loads cluster ${how}\n` +
      `  broker:      ${state.broker} (nats-server pid ${state.natsPid ?? '?'}, JetStream in ${path.join(state.dir, 'jetstream')})\n` +
      `  credentials: ${state.credentials} (mode 0600; runners and agents on this machine read it by default)\n` +
      `  agents:      ${state.agents.length} (pids ${state.agents.map((a) => a.pid).join(', ')}; logs in ${path.join(state.dir, 'logs')})\n` +
      `  use it:      loads-runner example.TestWebSite.test_something -u 10:20:30 -c 20 --agents ${state.agents.length}\n` +
      `  stop it:     loads-cluster stop${state.dir === defaultClusterDir(io.env) ? '' : ` --dir ${state.dir}`}\n`,
  )
}
