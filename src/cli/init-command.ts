import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { Command } from 'commander'
import { PACKAGE_ROOT } from '../case/resolve.js'
import { UsageError } from '../errors.js'
import { FIRST_TEST_ADDRESS, nextSteps, projectFiles } from '../init/project-template.js'
import { CliExit, type CliIO } from './cli-io.js'

/**
 * Whether `loads-runner` is on the npm registry. Until it is, a new project depends on the
 * Loads that ran `loads init`, by path; then, on the version.
 */
const PUBLISHED_ON_NPM = false

interface InitFlags {
  loadsRunner?: string
}

/** `loads init [DIR]`: a project with a first load test that type-checks and runs. */
export function initCommand(io: CliIO): Command {
  return new Command('init')
    .description('start a project of load tests: package.json, tsconfig.json, a first test, .gitignore')
    .argument('[dir]', 'the folder to create or fill', '.')
    .option('--loads-runner <spec>', 'the loads-runner dependency to write: a version range, or a path to a tarball or a clone (default: this Loads)')
    .action((dir: string, flags: InitFlags) => {
      const root = path.resolve(io.cwd, dir)
      const own = JSON.parse(readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')) as {
        version: string
        devDependencies?: Record<string, string>
      }
      const files = projectFiles({
        name: packageName(path.basename(root)),
        loadsRunnerSpec: flags.loadsRunner ?? (PUBLISHED_ON_NPM ? `^${own.version}` : `file:${PACKAGE_ROOT}`),
        typescriptRange: own.devDependencies?.['typescript'] ?? '^5.9.3',
        typesNodeRange: `^${process.versions.node.split('.')[0]}.0.0`,
      })
      const existing = Object.keys(files).filter((f) => existsSync(path.join(root, f)))
      if (existing.length > 0) {
        throw new UsageError(
          `loads init: ${path.relative(io.cwd, root) || '.'} already has ${existing.join(', ')}; nothing was written`,
          'run it in an empty folder, or name a new one: loads init my-load-tests',
          'LOADS_ERR_INIT_EXISTS',
        )
      }
      try {
        for (const [name, content] of Object.entries(files)) {
          mkdirSync(path.dirname(path.join(root, name)), { recursive: true })
          writeFileSync(path.join(root, name), content, { flag: 'wx' })
        }
      } catch (err) {
        throw new UsageError(`loads init: cannot write in ${root}: ${(err as Error).message}`, undefined, 'LOADS_ERR_INIT_WRITE')
      }
      const shown = path.relative(io.cwd, root) || '.'
      io.stdout.write(`created ${Object.keys(files).map((f) => path.join(shown, f)).join(', ')}\n`)
      if (!PUBLISHED_ON_NPM && flags.loadsRunner === undefined) {
        io.stdout.write(`loads-runner is not on the npm registry yet: package.json points at this Loads (${PACKAGE_ROOT})\n`)
      }
      io.stdout.write(`\nnext:\n${nextSteps(shown)}`)
      io.stdout.write(`\nthe first test is ${FIRST_TEST_ADDRESS}; npx loads-runner --help lists every option\n`)
      throw new CliExit(0)
    })
}

/** A valid npm package name from a folder name: lower case, URL-safe characters. */
function packageName(folder: string): string {
  const name = folder.toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[._-]+/, '').slice(0, 214)
  return name === '' ? 'load-tests' : name
}
