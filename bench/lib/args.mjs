// What the bench scripts share at their start: reading their command line, and pinning a
// process to a core.

const argv = process.argv.slice(2)

/** The value after `--name` on the command line, or `fallback` when it is not there. */
export function option(name, fallback) {
  const i = argv.indexOf(name)
  return i === -1 ? fallback : argv[i + 1]
}

/** Whether `--name` is on the command line. */
export function flag(name) {
  return argv.includes(name)
}

/**
 * `[command, args]` for spawn: under `taskset -c core` (which execs it, so the pid is still the
 * command's), or as given when `core` is null.
 */
export function pinned(core, command, args) {
  return core === null ? [command, args] : ['taskset', ['-c', String(core), command, ...args]]
}
