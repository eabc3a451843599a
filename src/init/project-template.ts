/**
 * The files `loads init` writes: a project that type-checks and runs a first load test against
 * the demo target. Pure: it returns names and contents; the CLI writes them.
 */

export interface ProjectTemplateOptions {
  /** The npm package name (folder name, made valid). */
  name: string
  /** The `loads-runner` dependency: a version range, or a `file:` path until it is published. */
  loadsRunnerSpec: string
  /** Version ranges of the dev tools the project type-checks with. */
  typescriptRange: string
  typesNodeRange: string
}

/** The first test's address, as the note and the package's script run it. */
export const FIRST_TEST_ADDRESS = 'tests/first-test.ts:FirstTest'

/** Relative path → content, in the order they are written. */
export function projectFiles(options: ProjectTemplateOptions): Record<string, string> {
  const pkg = {
    name: options.name,
    version: '0.1.0',
    private: true,
    type: 'module',
    scripts: {
      typecheck: 'tsc --noEmit',
      'load-test': `loads-runner ${FIRST_TEST_ADDRESS} -u 10 -c 20`,
      demo: 'loads demo --serve',
    },
    devDependencies: {
      '@types/node': options.typesNodeRange,
      'loads-runner': options.loadsRunnerSpec,
      typescript: options.typescriptRange,
    },
  }
  const tsconfig = {
    compilerOptions: {
      target: 'ES2022',
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      lib: ['ES2023'],
      types: ['node'],
      strict: true,
      noUncheckedIndexedAccess: true,
      noImplicitOverride: true,
      skipLibCheck: true,
      noEmit: true,
    },
    include: ['tests'],
  }
  return {
    'package.json': `${JSON.stringify(pkg, null, 2)}\n`,
    'tsconfig.json': `${JSON.stringify(tsconfig, null, 2)}\n`,
    '.gitignore': 'node_modules/\n/results/\n',
    'tests/first-test.ts': FIRST_TEST,
    'README.md': readme(options.name),
  }
}

const FIRST_TEST = `import { TestCase } from 'loads-runner'

/**
 * A first load test, against the demo target that ships with Loads (\`npx loads demo --serve\`;
 * \`npx loads demo --help\` lists its routes). Point it at your service with --server-url, or
 * change serverUrl. Every method whose name starts with \`test\` runs once per run of a user.
 */
export class FirstTest extends TestCase {
  static override serverUrl = 'http://127.0.0.1:8089'

  async test_home_page() {
    const res = await this.session.get('/')
    this.assertEqual(res.status, 200)
    this.assertIn('Search', res.text)
  }

  async test_read_a_post() {
    const id = 1 + (this.userIndex % 20)
    // One line in the stats for every post, not twenty.
    const res = await this.session.get(\`/posts/\${id}\`, { name: '/posts/{id}' })
    this.assertEqual(res.json<{ id: number }>().id, id)
  }

  async test_log_in() {
    await this.session.post('/login', { json: { user: \`user-\${this.userIndex}\` } })
    const me = await this.session.get('/me')
    this.assertEqual(me.json(), { user: \`user-\${this.userIndex}\` })
  }
}
`

/** The next commands, for the README and the terminal. */
export function nextSteps(dir: string): string {
  const cd = dir === '.' ? '' : `  cd ${/^[\w./-]+$/.test(dir) ? dir : `'${dir.replace(/'/g, `'\\''`)}'`}\n`
  return `${cd}  npm install
  npx tsc --noEmit                                   # type-check the tests
  npx loads demo --serve &                           # the demo target, on http://127.0.0.1:8089
  npx loads-runner ${FIRST_TEST_ADDRESS}         # one user, one run: does the test work?
  npx loads-runner ${FIRST_TEST_ADDRESS} -u 10 -c 20   # 10 users × 20 runs
`
}

function readme(name: string): string {
  return `# ${name}: load tests

Load tests written with [Loads](https://github.com/loads/loads) (\`loads-runner\`).

${'```'}sh
${nextSteps('.')}${'```'}

\`npx loads-runner --help\` lists every option; \`npx loads demo --help\` the demo target's routes.
`
}
