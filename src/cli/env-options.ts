/**
 * `-e KEY=VALUE` (repeatable), `--env-file FILE` and `--seed N`: parsed here once into the run's
 * options. The variables travel in the run's configuration to every worker and agent, where they
 * are set in `process.env` before the test module loads; their values are never printed.
 */
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { parseEnv } from 'node:util'
import { InvalidArgumentError, type Command } from 'commander'
import { UsageError } from '../errors.js'
import type { RunOptions } from '../runner/run.js'

export interface EnvFlags {
  env?: string[]
  envFile?: string
  seed?: number
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value]

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/

export function addEnvOptions(command: Command): Command {
  return command
    .option('-e, --env <KEY=VALUE>', "set an environment variable for the test, on every worker and agent (process.env, this.env); repeatable; values are never printed", collect)
    .option('--env-file <file>', 'read environment variables from a .env file (KEY=VALUE lines); -e wins over it')
    .option('--seed <n>', 'make every random choice reproducible: task picks, think times, user-class order, this.random()', seedArg)
}

function seedArg(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) > 0xffffffff) throw new InvalidArgumentError(`--seed expects a whole number from 0 to 4294967295: got '${value}'`)
  return Number(value)
}

/** Copies -e / --env-file / --seed into the run's options (the file read from `cwd`). */
export function applyEnvFlags(flags: EnvFlags, options: RunOptions, cwd: string): void {
  const env = runEnv(flags, cwd)
  if (env !== undefined) options.env = env
  if (flags.seed !== undefined) options.seed = flags.seed
}

/** The variables of --env-file, then each -e over them; undefined when neither was given. */
export function runEnv(flags: EnvFlags, cwd: string): Record<string, string> | undefined {
  if (flags.env === undefined && flags.envFile === undefined) return undefined
  const env: Record<string, string> = {}
  if (flags.envFile !== undefined) {
    let text: string
    try {
      text = readFileSync(path.resolve(cwd, flags.envFile), 'utf8')
    } catch (err) {
      throw new UsageError(`--env-file ${flags.envFile}: cannot read it: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
    }
    for (const [k, v] of Object.entries(parseEnv(text))) if (v !== undefined) env[k] = v
  }
  for (const pair of flags.env ?? []) {
    const eq = pair.indexOf('=')
    const key = eq > 0 ? pair.slice(0, eq) : pair
    if (eq <= 0 || !NAME.test(key)) {
      throw new UsageError(`-e expects KEY=VALUE with KEY a variable name: got '${eq > 0 ? `${key}=…` : pair}'`, 'e.g. -e TARGET=http://127.0.0.1:8089')
    }
    env[key] = pair.slice(eq + 1)
  }
  return env
}
