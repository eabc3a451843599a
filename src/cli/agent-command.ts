import { Command, Option } from 'commander'
import { Agent } from '../cluster/agent.js'
import { DEFAULT_BROKER } from '../cluster/nats-connection.js'
import { ExitCode } from '../runner/exit-codes.js'
import { addBrokerOptions, brokerFlags, resolveBroker } from './broker-flags.js'
import { CliExit, type CliIO } from './cli-io.js'
import { positiveInt } from './options.js'

const HELP = `
An agent runs the load tests a runner sends it (loads-runner … --agents N), on its own worker
threads, and streams the results back through the broker. It runs whatever test it is sent: the
broker is the door. Against a broker other machines can reach, the agent insists on
authentication or TLS (or --allow-insecure, on a network you trust).

Examples:
  loads-agent                                        the broker of loads-cluster on this machine
  loads-agent --broker nats://10.0.0.5:4222 --credentials /etc/loads/credentials.json
  LOADS_BROKER_USER=loads LOADS_BROKER_PASSWORD=… loads-agent --broker tls://broker:4222 --tls-ca ca.pem
`

/** `loads agent` / `loads-agent`: registers with the broker, heartbeats, runs what it is sent. */
export function agentCommand(io: CliIO): Command {
  const command = new Command('agent').description('run a cluster agent: wait for load tests from the broker and run them')
  addBrokerOptions(command, '', DEFAULT_BROKER)
    .option('-w, --workers <n>', 'worker threads per run (default: one per core)', positiveInt('--workers'))
    .option('--allow-insecure', 'accept a non-loopback broker with neither authentication nor TLS')
    .addOption(new Option('--as-version <version>', 'announce another Loads version (tests)').hideHelp())
    .addOption(new Option('--lifeline', 'stop when stdin closes: the supervisor (loads-cluster) holds its other end').hideHelp())
    .addHelpText('after', HELP)
    .action(async (flags: Record<string, unknown> & { workers?: number; asVersion?: string; lifeline?: boolean }) => {
      const agent = new Agent({
        broker: resolveBroker(brokerFlags(flags, ''), io.env, io.cwd),
        ...(flags.workers !== undefined ? { workers: flags.workers } : {}),
        ...(flags.asVersion !== undefined ? { version: flags.asVersion } : {}),
        // In-process callers give the CLI an env of their own: the workers' process.env starts from it.
        workerEnv: io.env,
        log: (line) => io.stderr.write(`${line}\n`),
      })
      let why = ''
      const stopped = new Promise<'stopped'>((resolve) => {
        if (io.signal.aborted) resolve('stopped')
        io.signal.addEventListener('abort', () => resolve('stopped'), { once: true })
        // The supervisor's end of the pipe closes when it dies, however it dies (SIGKILL too).
        if (flags.lifeline === true && io.stdin) {
          const lost = (): void => {
            why = 'the supervisor (loads-cluster) is gone: '
            resolve('stopped')
          }
          io.stdin.once('end', lost)
          io.stdin.once('close', lost)
          io.stdin.once('error', lost)
          io.stdin.resume()
        }
      })
      // Waiting for a broker that is not up yet must not make the agent deaf to Ctrl-C / SIGTERM.
      if ((await Promise.race([agent.start().then(() => 'started' as const), stopped])) === 'stopped') {
        io.stderr.write('stopped before the broker answered\n')
        throw new CliExit(ExitCode.OK)
      }
      await stopped
      io.stderr.write(`${why}stopping the agent (a run in progress stores its results first)\n`)
      await agent.close()
      throw new CliExit(ExitCode.OK)
    })
  return command
}
