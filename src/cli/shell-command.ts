import os from 'node:os'
import path from 'node:path'
import { Command } from 'commander'
import { UsageError } from '../errors.js'
import { runShell } from '../shell/repl/shell.js'
import { addBrokerOptions, brokerFlags, resolveBroker } from './broker-flags.js'
import { CliExit, type CliIO } from './cli-io.js'
import { durationMs } from './options.js'
import { checkBaseUrl } from './write-generated.js'

interface ShellFlags {
  serverUrl?: string
  insecure?: boolean
  timeout?: number
  broker?: string
}

const EXAMPLES = `
In the shell:
  get /items                    GET, the response printed (JSON indented, long bodies cut)
  post /items {"name":"a"}      JSON body; a=1&b=2 is a form; {name: x} any JavaScript value
  headers X-Token abc           a header on every later request (headers -X-Token removes it)
  headers · cookies             what the session sends
  await session.get('/items', { params: { page: 2 } })   JavaScript, with top-level await
  last.json()                   the last response
  .headers on                   print response headers too
  .save checkout.ts             a TestCase replaying the requests made, asserting their statuses
  .run -u 10 -c 5               load-test them now, with a summary
  .agents · .runs · .stop RUN   the cluster (with --broker)

History is kept in ~/.loads_history (or $LOADS_HISTORY; LOADS_HISTORY= keeps none).
`

/** `loads shell`: explore a service interactively, then save or load-test what was done. */
export function shellCommand(io: CliIO): Command {
  const command = new Command('shell')
    .description('an interactive shell with a loads session: explore a service, then .save or .run what you did')
    .option('--server-url <url>', 'base URL of relative paths (get /items)')
    .option('--insecure', 'do not verify TLS certificates (the saved test says static insecure = true)')
    .option('--timeout <time>', 'per-request timeout: 30s, 500ms', durationMs('--timeout'))
  addBrokerOptions(command, 'broker-', 'none: .agents, .runs, .stop and .run --agents need one')
  return command.addHelpText('after', EXAMPLES).action(async (flags: ShellFlags & Record<string, unknown>) => {
    const input = io.stdin
    if (input === undefined) throw new UsageError('loads shell needs an input to read commands from')
    const terminal = input.isTTY === true && io.isTTY
    const historyFile = io.env.LOADS_HISTORY ?? path.join(os.homedir(), '.loads_history')
    const wantsBroker = flags.broker !== undefined || io.env.LOADS_BROKER !== undefined || typeof flags.credentials === 'string'
    await runShell({
      input,
      output: io.stdout,
      terminal,
      colors: terminal && io.env.NO_COLOR === undefined,
      cwd: io.cwd,
      signal: io.signal,
      // In-process callers give the CLI an env of their own: `.run`'s workers start from it.
      env: io.env,
      ...(io.columns !== undefined ? { columns: io.columns } : {}),
      ...(flags.serverUrl !== undefined ? { serverUrl: checkBaseUrl('--server-url', flags.serverUrl) } : {}),
      ...(flags.insecure === true ? { insecure: true } : {}),
      ...(flags.timeout !== undefined ? { timeoutMs: flags.timeout } : {}),
      ...(historyFile !== '' ? { historyFile: path.resolve(io.cwd, historyFile) } : {}),
      ...(wantsBroker ? { broker: resolveBroker(brokerFlags(flags, 'broker-'), io.env, io.cwd) } : {}),
    })
    throw new CliExit(0)
  })
}
