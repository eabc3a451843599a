import { Command, CommanderError } from 'commander'
import { UsageError } from '../../errors.js'

/** What `.run` was asked for, in the runner's own terms (strings where the runner parses them). */
export interface RunArgs {
  users: string
  hits?: string
  duration?: string
  workers?: number
  agents?: number
  serverUrl?: string
  quiet: boolean
}

/**
 * Parses `.run -u 10 -c 5` (the loads-runner flags that make sense in the shell) with the same
 * spellings as loads-runner. Throws a UsageError that says what is wrong.
 */
export function parseRunArgs(text: string): RunArgs {
  const command = new Command('.run')
    .exitOverride()
    .configureOutput({ writeOut: () => {}, writeErr: () => {} })
    .option('-u, --users <n>', 'users', '1')
    .option('-c, --hits <n>', 'runs per user')
    .option('-d, --duration <time>', 'per step')
    .option('-w, --workers <n>', 'worker threads', whole('--workers'))
    .option('--agents <n>', 'cluster agents', whole('--agents'))
    .option('--server-url <url>', 'base URL')
    .option('-q, --quiet', 'summary only')
  const words = text.trim() === '' ? [] : text.trim().split(/\s+/)
  try {
    command.parse(words, { from: 'user' })
  } catch (err) {
    if (err instanceof CommanderError) throw new UsageError(`.run: ${err.message.replace(/^error: /, '')}`, '.run -u USERS -c HITS (or -d 30s), -w WORKERS, --agents N with --broker')
    throw err
  }
  if (command.args.length > 0) throw new UsageError(`.run: unexpected ${JSON.stringify(command.args.join(' '))}`, '.run -u 10 -c 5')
  const flags = command.opts<{ users: string; hits?: string; duration?: string; workers?: number; agents?: number; serverUrl?: string; quiet?: boolean }>()
  const args: RunArgs = { users: flags.users, quiet: flags.quiet === true }
  if (flags.hits !== undefined) args.hits = flags.hits
  if (flags.duration !== undefined) args.duration = flags.duration
  if (flags.workers !== undefined) args.workers = flags.workers
  if (flags.agents !== undefined) args.agents = flags.agents
  if (flags.serverUrl !== undefined) args.serverUrl = flags.serverUrl
  return args
}

function whole(flag: string) {
  return (value: string): number => {
    if (!/^\d+$/.test(value) || Number(value) < 1) throw new UsageError(`.run: ${flag} expects a whole number ≥ 1: got '${value}'`)
    return Number(value)
  }
}
