/**
 * The flags of issue 6 on a run: load shapes (ramp-up, pause, think, rate), connections (HTTP/2,
 * TLS files, --resolve) and data. Kept as the user's text where the plan parses it, so a config
 * file's values and the command line's go through the same checks.
 */
import { Option, type Command } from 'commander'
import { DEFAULT_MAX_USERS } from '../load/load-shape.js'
import type { DataMode } from '../load/data-feed.js'
import type { RunOptions } from '../runner/run.js'
import { positiveInt } from './options.js'

export interface ShapeFlags {
  rampUp?: string
  pause?: string
  think?: string
  rate?: string
  maxUsers?: number
  http2?: boolean
  h2c?: boolean
  h2Streams?: number
  cacert?: string
  cert?: string
  key?: string
  resolve?: string[]
  data?: string
  dataMode?: DataMode
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value]

export function addShapeOptions(command: Command): Command {
  return command
    .option('--ramp-up <time>', "start each step's users spread evenly over this: 30s")
    .option('--pause <time>', 'idle time between two steps: 10s')
    .option('--think <time>', "a user's pause between two of its runs: 500ms, or random within 200ms-1s")
    .option('--rate <n>', 'open model: test runs started per second on a schedule, whatever the responses do; steps 100:200:400 last -d each')
    .option(
      '--max-users <n>',
      `open model: at most this many runs in flight (default ${DEFAULT_MAX_USERS}); a start finding none free waits, counted from when it was due, and is dropped (and counted) if the step ends first`,
      positiveInt('--max-users'),
    )
    .option('--http2', 'offer HTTP/2 to https:// servers (ALPN h2); servers that decline keep HTTP/1.1')
    .option('--h2c', 'speak HTTP/2 without TLS to http:// servers (prior knowledge, as curl --http2-prior-knowledge)')
    .option('--h2-streams <n>', "users of a worker sharing one HTTP/2 connection, each with its own streams (default 1: a connection per user)", positiveInt('--h2-streams'))
    .option('--cacert <file>', 'trust the CA certificates of this PEM file instead of the system list')
    .option('--cert <file>', 'client certificate (PEM) for servers that ask for one; with --key')
    .option('--key <file>', 'private key (PEM) of --cert')
    .option('--resolve <host:port:addr>', 'connect to addr for host:port, as curl does (Host and TLS name unchanged); repeatable', collect)
    .option('--data <file>', 'rows handed to each run as this.data: .csv (with a header line), .json (an array) or .jsonl')
    .addOption(
      new Option('--data-mode <mode>', 'round-robin: each run takes the next row; unique: each user keeps a row of its own').choices(['round-robin', 'unique']),
    )
}

/** Copies the flags that were given into the run's options. */
export function applyShapeFlags(flags: ShapeFlags, options: RunOptions): void {
  if (flags.rampUp !== undefined) options.rampUp = flags.rampUp
  if (flags.pause !== undefined) options.pause = flags.pause
  if (flags.think !== undefined) options.think = flags.think
  if (flags.rate !== undefined) options.rate = flags.rate
  if (flags.maxUsers !== undefined) options.maxUsers = flags.maxUsers
  if (flags.http2 === true) options.http2 = true
  if (flags.h2c === true) options.h2c = true
  if (flags.h2Streams !== undefined) options.h2Streams = flags.h2Streams
  if (flags.cacert !== undefined) options.cacert = flags.cacert
  if (flags.cert !== undefined) options.cert = flags.cert
  if (flags.key !== undefined) options.key = flags.key
  if (flags.resolve !== undefined) options.resolve = flags.resolve
  if (flags.data !== undefined) options.data = flags.data
  if (flags.dataMode !== undefined) options.dataMode = flags.dataMode
}

export const SHAPE_EXAMPLES = `
Load shapes:
  -u 100 -d 5m --ramp-up 1m               100 users, starting over the first minute
  -u 10:50:100 -d 2m --pause 30s          three steps, 30 s apart
  -u 20 -c 50 --think 200ms-1s            each user waits 0.2–1 s between its runs
  --rate 200 -d 1m                        open model: 200 runs started per second for a minute
  --rate 100:200:400 -d 30s --max-users 500
                                          rate steps; latency counts from each run's intended
                                          start (coordinated omission corrected), service time beside it
`
