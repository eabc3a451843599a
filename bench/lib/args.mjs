// What the bench scripts share at their start: reading their command line, pinning a process to
// a core, and where their progress lines go.
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'

const argv = process.argv.slice(2)

// `--help` / `-h` on any bench script: its header comment (what it does, its options), and
// nothing run. Before, most scripts ignored it and ran the whole benchmark.
if (argv.includes('--help') || argv.includes('-h')) {
  const lines = readFileSync(process.argv[1], 'utf8').split('\n').slice(1)
  const header = lines.slice(0, lines.findIndex((l) => !l.startsWith('//')))
  process.stdout.write(`${header.map((l) => l.replace(/^\/\/ ?/, '')).join('\n')}\n`)
  process.exit(0)
}

/** The value after `--name` on the command line, or `fallback` when it is not there. */
export function option(name, fallback) {
  const i = argv.indexOf(name)
  return i === -1 ? fallback : argv[i + 1]
}

/** Whether `--name` is on the command line. */
export function flag(name) {
  return argv.includes(name)
}

/** A progress line, on stderr: stdout carries only the Markdown table. */
export function log(line) {
  process.stderr.write(`${line}\n`)
}

/**
 * The options of the side-by-side scenes (bench/run.mjs, tls-h2.mjs, grpc.mjs), which run.mjs
 * forwards to the others: `--smoke` (1 round of 2 s), `--duration` s, `--rounds`,
 * `--connections`, `--only` tool ids (undefined: all), `--out` folder (default bench/results).
 */
export function sceneOptions(root) {
  const smoke = flag('--smoke')
  return {
    smoke,
    seconds: Number(option('--duration', smoke ? 2 : 10)),
    rounds: Number(option('--rounds', smoke ? 1 : 2)),
    connections: Number(option('--connections', 50)),
    only: option('--only', undefined)?.split(','),
    outDir: option('--out', join(root, 'bench/results')),
  }
}

/**
 * `[command, args]` for spawn: under `taskset -c core` (which execs it, so the pid is still the
 * command's), or as given when `core` is null.
 */
export function pinned(core, command, args) {
  return core === null ? [command, args] : ['taskset', ['-c', String(core), command, ...args]]
}

/**
 * On a machine with two cores or more, moves this harness (all its threads) to core 0, beside
 * the server, so that it stays off the generator's core 1; it only polls the server's counter.
 * Returns whether it did, i.e. whether scenes pin server and generator to cores 0 and 1.
 */
export function pinHarnessToServerCore() {
  const pin = os.availableParallelism() >= 2
  if (pin) spawnSync('taskset', ['-a', '-p', '-c', '0', String(process.pid)], { stdio: 'ignore' })
  return pin
}
