import { Command, CommanderError } from 'commander'
import { createRequire } from 'node:module'
import { setFlagsFromString } from 'node:v8'
import { ExitCode, formatExitCodeTable } from '../runner/exit-codes.js'
import { removeTempFolders } from '../util/private-temp.js'
import { agentCommand } from './agent-command.js'
import { CliExit, reportError, type CliIO, type InterruptSlot } from './cli-io.js'
import { clusterCommand } from './cluster-command.js'
import { withClusterOptions } from './cluster-run.js'
import { ctlCommand } from './ctl-command.js'
import { curlCommand } from './curl-command.js'
import { demoCommand } from './demo-command.js'
import { harCommand } from './har-command.js'
import { initCommand } from './init-command.js'
import { reportCommand } from './report-command.js'
import { runCommand } from './run-command.js'
import { shellCommand } from './shell-command.js'

const pkg = createRequire(import.meta.url)('../../package.json') as { version: string }

/** The `loads` program and its subcommands. */
export function buildProgram(io: CliIO): Command {
  const program = new Command('loads')
    .description('Loads: load testing for HTTP services, written like unit tests')
    .version(pkg.version, '-V, --version')
    .addHelpText('after', `\nExit codes:\n${formatExitCodeTable()}\n`)
  program.addCommand(withClusterOptions(runCommand(io)))
  program.addCommand(demoCommand(io))
  program.addCommand(initCommand(io))
  program.addCommand(curlCommand(io))
  program.addCommand(harCommand(io))
  program.addCommand(shellCommand(io))
  program.addCommand(reportCommand(io))
  program.addCommand(agentCommand(io))
  program.addCommand(clusterCommand(io))
  program.addCommand(ctlCommand(io))
  configure(program, io)
  return program
}

function configure(command: Command, io: CliIO): void {
  command.exitOverride()
  command.configureOutput({
    writeOut: (s) => io.stdout.write(s),
    writeErr: (s) => io.stderr.write(s),
    outputError: (s, write) => write(s.replace(/^error: /, 'error: ')),
  })
  command.showHelpAfterError('(run with --help for usage)')
  for (const sub of command.commands) configure(sub, io)
}

/** A second signal within this long of the first is the same signal delivered twice, ms. */
export const SIGNAL_ECHO_MS = 1000

/**
 * `loads-runner`, `loads-agent` and `loads-cluster` are `loads run`, `loads agent` and `loads
 * cluster`: their help says the name the user typed (`Usage: loads-runner [options] [test]`).
 */
function nameAfterCommand(program: Command, argv: string[], invokedAs: string): void {
  const sub = program.commands.find((c) => c.name() === argv[0])
  if (sub === undefined) return
  const rename = (cmd: Command, shown: string): void => {
    cmd.configureHelp({ commandUsage: (c) => `${shown} ${c.usage()}` })
    for (const child of cmd.commands) rename(child, `${shown} ${child.name()}`)
  }
  rename(sub, invokedAs)
}

/**
 * Runs the CLI with the given arguments and returns the exit code (nothing here exits).
 * `invokedAs` is the command the user typed when it stands for `loads ARGV[0]` (`loads-runner`).
 */
export async function runCli(argv: string[], io: CliIO, invokedAs?: string): Promise<number> {
  const program = buildProgram(io)
  if (invokedAs !== undefined) nameAfterCommand(program, argv, invokedAs)
  try {
    await program.parseAsync(argv, { from: 'user' })
    return ExitCode.OK
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end in a CommanderError with code 0.
      return err.exitCode === 0 ? ExitCode.OK : ExitCode.USAGE
    }
    if (err instanceof CliExit) return err.exitCode
    return reportError(err, io)
  }
}

/** The process entry point used by bin/: `invokedAs` as for runCli. */
export function main(argv: string[], invokedAs?: string): void {
  // Ten thousand users keep ~100 MB of live objects per worker; V8's default lets the old
  // generation grow to several times that before collecting. Growing it by 30% at a time keeps a
  // 10,000-user run's RSS about a third lower, for a little more GC work (measured in bench/).
  setFlagsFromString('--heap-growing-percent=30')
  const controller = new AbortController()
  let firstSignalMs: number | undefined
  const interrupt: InterruptSlot = { handler: undefined }
  const onSignal = (signal: NodeJS.Signals): void => {
    const now = Date.now()
    if (firstSignalMs === undefined) {
      firstSignalMs = now
      if (signal === 'SIGINT' && interrupt.handler) {
        interrupt.handler(signal)
        return
      }
      if (!controller.signal.aborted) {
        const stopping = interrupt.stopping ?? 'stopping; the summary follows'
        process.stderr.write(`\n${signal === 'SIGINT' ? 'Ctrl-C' : signal}: ${stopping} (again to quit now)\n`)
        controller.abort()
      }
      return
    }
    // GNU timeout signals the runner and then its process group, a terminal's Ctrl-C reaches the
    // whole group too: a repeat within the window is that echo. Only a second Ctrl-C after a
    // pause means "quit now".
    if (signal === 'SIGINT' && now - firstSignalMs >= SIGNAL_ECHO_MS) process.exit(ExitCode.INTERRUPTED)
    // A SIGTERM while a command holds the first Ctrl-C (a cluster run asking "stop or detach?"): stop.
    if (signal === 'SIGTERM' && !controller.signal.aborted) controller.abort()
  }
  // `loads-runner … | head`: a closed pipe ends the output, not with a stack trace.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(process.exitCode ?? ExitCode.OK)
    })
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  // Whatever the way out (the end, a second Ctrl-C, the forced exit below): the command's
  // private temp space (bundles, health tests, an agent's folder) goes with it.
  process.on('exit', removeTempFolders)
  const io: CliIO = {
    stdout: process.stdout,
    stderr: process.stderr,
    // A getter: touching process.stdin opens it, which only commands that read input should do.
    get stdin() {
      return process.stdin
    },
    isTTY: Boolean(process.stdout.isTTY),
    ...(process.stdout.columns ? { columns: process.stdout.columns } : {}),
    cwd: process.cwd(),
    env: process.env,
    signal: controller.signal,
    interrupt,
  }
  runCli(argv, io, invokedAs).then(
    (code) => {
      process.exitCode = code
      // Open handles (a keep-alive socket a test forgot) must not keep a finished run alive.
      setTimeout(() => process.exit(code), 2000).unref()
    },
    (err: unknown) => {
      process.exitCode = reportError(err, io)
    },
  )
}
