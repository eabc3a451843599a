// Starts the CLI from dist/, or says plainly why it cannot: a clone whose dependencies or build
// are missing (npm did not run `prepare`: scripts not allowed, or `npm install` never run).
import { existsSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

/** Runs the CLI with these arguments (`loads ARGS…`); `invokedAs` names `loads ARGS[0]` in help. */
export async function start(args, invokedAs) {
  let cli
  try {
    cli = await import('../dist/cli/main.js')
  } catch (err) {
    if (err?.code !== 'ERR_MODULE_NOT_FOUND') throw err
    const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
    const program = path.basename(process.argv[1] ?? 'loads', '.js')
    const why = String(err.message).split('\n')[0]
    const fix = existsSync(path.join(root, 'src'))
      ? `Run \`npm install\` in ${root} (it installs the dependencies and builds dist/), then try again.`
      : `Reinstall loads-runner.`
    process.stderr.write(`${program}: Loads is not built or not fully installed in ${root} (${why}).\n${fix}\n`)
    process.exitCode = 2
    return
  }
  cli.main(args, invokedAs)
}
