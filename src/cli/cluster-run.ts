/**
 * The runner's cluster flags (`--agents`, `--broker`, `--ping-broker`, `--purge-broker`,
 * `--check-cluster`, `--detach`, `--attach`) and what each does. A run with `--agents` is the
 * local coordinator (runTests) with the cluster engine: same outputs, thresholds, exit codes.
 */
import { createInterface } from 'node:readline/promises'
import { Option, type Command } from 'commander'
import { attachRun } from '../cluster/attach.js'
import { checkCluster, pingBroker, purgeBroker } from '../cluster/broker-admin.js'
import { clusterEngine, RunDetached } from '../cluster/cluster-engine.js'
import { submitDetached } from '../cluster/detached-run.js'
import { writeHealthTest } from '../cluster/health-test.js'
import { DEFAULT_BROKER, type BrokerOptions } from '../cluster/nats-connection.js'
import { UsageError } from '../errors.js'
import { ExitCode } from '../runner/exit-codes.js'
import { prepareTest } from '../runner/prepare-test.js'
import { runConfig, runTests, type RunIO, type RunOptions } from '../runner/run.js'
import { addBrokerOptions, brokerFlags, resolveBroker } from './broker-flags.js'
import type { CliIO } from './cli-io.js'
import { durationMs, positiveInt } from './options.js'

export interface ClusterFlags {
  agents?: number
  pingBroker?: boolean
  purgeBroker?: boolean
  checkCluster?: boolean
  detach?: boolean
  attach?: string | boolean
  streamReplicas?: number
  brokerWait?: number
}

/** How long a cluster run waits for a broker that stopped answering, by default, ms. */
export const DEFAULT_BROKER_WAIT_MS = 60_000

const HELP = `
Cluster (a broker and agents: loads-cluster start --agents 5):
  loads-runner example.TestWebSite.test_something -u 10:20:30 -c 20 --agents 5
                                  each of 5 agents runs the whole plan: 5 × 1200 = 6000 runs
  loads-runner … --agents 5 --detach   submit, print the run id, return
  loads-runner --attach [RUN_ID]       follow a run (the newest by default) to its summary
  loads-runner --ping-broker           agents, their state, the runs
  loads-runner --purge-broker          stop every run
  loads-runner --check-cluster [TEST]  one run on every idle agent: pass or fail each
  Ctrl-C during a cluster run asks: stop the run, or detach from it.
`

/** Adds the cluster flags to the run command. */
export function withClusterOptions(command: Command): Command {
  command
    .option('--agents <n>', 'run on N idle cluster agents; each runs the whole plan', positiveInt('--agents'))
    .option('--ping-broker', 'list the agents (id, host, state, run) and the runs on the broker')
    .option('--purge-broker', 'stop every run on the broker')
    .option('--check-cluster', 'a one-run health check on every idle agent (the given test, or a built-in one)')
    .option('--detach', 'with --agents: submit the run, print its id, and return')
    .addOption(new Option('--attach [run-id]', 'follow a cluster run (the newest when no id is given) to its summary'))
    .option('--stream-replicas <n>', "copies of a run's results on a NATS cluster (default 1)", positiveInt('--stream-replicas'))
    .option(
      '--broker-wait <duration>',
      `how long a cluster run (or --attach) waits for a broker that stopped answering before it gives up with the results so far (default ${DEFAULT_BROKER_WAIT_MS / 1000}s)`,
      durationMs('--broker-wait'),
    )
  addBrokerOptions(command, 'broker-', `${DEFAULT_BROKER}, or loads-cluster's`)
  return command.addHelpText('after', HELP)
}

/** True when the flags ask for the cluster rather than this machine's cores. */
export function wantsCluster(given: object): boolean {
  const flags = given as ClusterFlags
  return flags.agents !== undefined || flags.pingBroker === true || flags.purgeBroker === true || flags.checkCluster === true || flags.attach !== undefined || flags.detach === true
}

/**
 * What runs a test for these flags: runTests on this machine, or the cluster mode they ask for.
 * `test` is the test address (undefined for the modes that need none, like --ping-broker).
 */
export function runFor(test: string | undefined, flags: object, io: CliIO): (options: RunOptions, runIO: RunIO) => Promise<number> {
  const f = flags as ClusterFlags & Record<string, unknown>
  return wantsCluster(f) ? (options, runIO) => runOnCluster(test, f, options, runIO, io) : (options, runIO) => runTests(options, runIO)
}

/** Runs the cluster mode the flags ask for; returns the exit code. */
export async function runOnCluster(test: string | undefined, flags: ClusterFlags & Record<string, unknown>, options: RunOptions, runIO: RunIO, io: CliIO): Promise<number> {
  const modes = (['pingBroker', 'purgeBroker', 'checkCluster', 'attach', 'agents'] as const).filter((m) => flags[m] !== undefined && flags[m] !== false)
  if (modes.length > 1) throw new UsageError(`choose one of --agents, --attach, --ping-broker, --purge-broker, --check-cluster (got ${modes.map(flagName).join(', ')})`)
  if (flags.attach !== undefined && test !== undefined) {
    throw new UsageError(`--attach follows a run already going, with the test it was started with: it takes no test (got '${test}')`, 'loads-runner --attach RUN_ID (or --attach alone: the latest run); to start a run: loads-runner TEST --agents N')
  }
  if (typeof flags.attach === 'string' && flags.attach.trim() === '') {
    throw new UsageError('--attach needs a run id, or nothing at all for the latest run: got an empty one', 'loads-runner --attach RUN_ID (--ping-broker lists the stored runs)')
  }
  if (flags.detach === true && flags.agents === undefined) throw new UsageError('--detach goes with --agents N', 'loads-runner TEST -u 10 -c 20 --agents 5 --detach')
  const broker = resolveBroker(brokerFlags(flags, 'broker-'), io.env, io.cwd)
  const replicas = flags.streamReplicas ?? 1
  const brokerWaitMs = flags.brokerWait ?? DEFAULT_BROKER_WAIT_MS
  const out = { out: (line: string) => io.stdout.write(`${line}\n`) }
  const notice = (line: string): void => {
    io.stderr.write(`${io.isTTY ? '\r\x1b[K' : ''}${line}\n`)
  }

  if (flags.pingBroker) return pingBroker(broker, out)
  if (flags.purgeBroker) return purgeBroker(broker, out)
  if (flags.checkCluster) {
    const health = test === undefined ? writeHealthTest(options.serverUrl) : undefined
    const address = health?.address ?? options.address
    const prepared = await prepareTest(address, io.cwd)
    return checkCluster({ broker, prepared, config: runConfig(options, prepared.tests), address: test ?? 'built-in health test', notice, replicas }, out)
  }
  if (flags.attach !== undefined) return attach(typeof flags.attach === 'string' ? flags.attach : undefined, broker, options, runIO, io, notice, brokerWaitMs)

  const agents = flags.agents!
  if (test === undefined) throw new UsageError('--agents needs a test', 'loads-runner example.TestWebSite.test_something -u 10:20:30 -c 20 --agents 5')
  const workers = options.workers ?? null
  if (flags.detach) {
    const { runId, accepted, refused } = await submitDetached(options, { broker, agents, workers, notice, replicas })
    for (const r of refused) notice(r.message)
    io.stdout.write(`run ${runId} submitted to ${accepted.length} agents (${accepted.join(', ')})\nfollow it with: loads-runner --attach ${runId}\n`)
    return refused.length > 0 ? ExitCode.PARTIAL : ExitCode.OK
  }

  const choice = interruptChoice(io, runIO.signal)
  try {
    return await runTests(
      { ...options, agents },
      { ...runIO, signal: choice.stop },
      clusterEngine({ broker, agents, workers, detachSignal: choice.detach, notice, replicas, brokerWaitMs }),
    )
  } catch (err) {
    if (!(err instanceof RunDetached)) throw err
    io.stdout.write(`\ndetached: run ${err.runId} goes on without this runner\nfollow it with: loads-runner --attach ${err.runId}\n`)
    return ExitCode.OK
  } finally {
    choice.dispose()
  }
}

async function attach(
  runId: string | undefined,
  broker: BrokerOptions,
  options: RunOptions,
  runIO: RunIO,
  io: CliIO,
  notice: (line: string) => void,
  brokerWaitMs: number,
): Promise<number> {
  const choice = interruptChoice(io, runIO.signal)
  try {
    const result = await attachRun({ broker, runId, quiet: options.quiet ?? false, stopSignal: choice.stop, detachSignal: choice.detach, notice, brokerWaitMs }, runIO)
    if (result.detached) io.stdout.write(`\ndetached: run ${result.runId} goes on; follow it again with: loads-runner --attach ${result.runId}\n`)
    return result.exitCode
  } finally {
    choice.dispose()
  }
}

/**
 * Ctrl-C during a cluster run: on a terminal, ask whether to stop the run or detach from it;
 * elsewhere (or SIGTERM), stop. Both outcomes come out as abort signals.
 */
function interruptChoice(io: CliIO, processSignal: AbortSignal | undefined): { stop: AbortSignal; detach: AbortSignal; dispose(): void } {
  const stop = new AbortController()
  const detach = new AbortController()
  const onProcessAbort = (): void => stop.abort()
  if (processSignal?.aborted) stop.abort()
  processSignal?.addEventListener('abort', onProcessAbort, { once: true })
  const slot = io.interrupt
  if (slot && io.isTTY && process.stdin.isTTY) {
    slot.handler = () => {
      void askStopOrDetach(io).then((answer) => (answer === 'detach' ? detach.abort() : stop.abort()))
    }
  }
  return {
    stop: stop.signal,
    detach: detach.signal,
    dispose: () => {
      processSignal?.removeEventListener('abort', onProcessAbort)
      if (slot) slot.handler = undefined
    },
  }
}

async function askStopOrDetach(io: CliIO): Promise<'stop' | 'detach'> {
  const rl = createInterface({ input: process.stdin, output: io.stderr, terminal: true })
  try {
    const answer = await rl.question('\nCtrl-C: [s]top the run (the summary follows), or [d]etach (the agents go on; --attach follows it again)? [S/d] ')
    return /^\s*d/i.test(answer) ? 'detach' : 'stop'
  } finally {
    rl.close()
    process.stdin.pause()
  }
}

function flagName(mode: string): string {
  return `--${mode.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`
}
