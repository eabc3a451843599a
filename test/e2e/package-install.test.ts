/**
 * Loads as a user gets it: `npm pack` (the real lifecycle: prepack, postpack) of a copy of this
 * tree, installed from the tarball into an empty project with no dev tools but TypeScript, then
 * type-checked and run; and `loads init` from that install, whose project must install,
 * type-check and run as its note says. npm works from its cache (`--offline`): the packages are
 * those this repository installed; only if the cache lacks one does npm ask the registry
 * (`--prefer-offline`). Slow by nature (three npm runs): a few minutes on a busy machine.
 */
import { execFile } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startDemoServer, type DemoServer } from '../../src/demo/demo-server.js'
import { ROOT, testResult } from '../helpers/cli.js'

const run = promisify(execFile)
const NPM_FLAGS = ['--no-audit', '--no-fund', '--loglevel=warn']
const SLOW = 300_000
const typescriptVersion = (JSON.parse(readFileSync(path.join(ROOT, 'node_modules/typescript/package.json'), 'utf8')) as { version: string }).version

/** Runs a command; resolves with its output and exit code instead of throwing. */
async function sh(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(cmd, args, { cwd, env: { ...process.env, FORCE_COLOR: '0', ...env }, timeout: 240_000, maxBuffer: 16 << 20 })
    return { code: 0, stdout: r.stdout, stderr: r.stderr }
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string }
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? String(err) }
  }
}

/** `npm install ARGS` from the cache alone, or with the registry for what the cache lacks. */
async function npmInstall(args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const offline = await sh('npm', ['install', '--offline', ...NPM_FLAGS, ...args], cwd)
  if (offline.code === 0 || !offline.stderr.includes('ENOTCACHED')) return offline
  return sh('npm', ['install', '--prefer-offline', ...NPM_FLAGS, ...args], cwd)
}

describe('the packed package', () => {
  let work = ''
  let tarball = ''
  let project = ''
  let demo: DemoServer

  beforeAll(async () => {
    work = mkdtempSync(path.join(os.tmpdir(), 'loads-test-package-'))
    // What a clean checkout holds for packing, with dist/ as `npm test` has just built it.
    const tree = path.join(work, 'tree')
    for (const entry of ['package.json', 'README.md', 'LICENSE', 'bin', 'dist', 'examples', 'schema', 'scripts', 'ui']) {
      cpSync(path.join(ROOT, entry), path.join(tree, entry), { recursive: true, filter: (src) => !src.endsWith('.map') })
    }
    const packed = await sh('npm', ['pack', '--pack-destination', work, '--loglevel=warn'], tree, { LOADS_PACK_PREBUILT: '1' })
    expect(packed.stderr).toBe('')
    expect(packed.code).toBe(0)
    tarball = path.join(work, packed.stdout.trim().split('\n').at(-1) ?? '')
    // The clone's package.json is put back as it was.
    expect(readFileSync(path.join(tree, 'package.json'), 'utf8')).toBe(readFileSync(path.join(ROOT, 'package.json'), 'utf8'))
    expect(existsSync(path.join(tree, '.package.json.prepack'))).toBe(false)

    project = path.join(work, 'project')
    mkdirSync(project)
    writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'empty-project', version: '1.0.0', private: true, type: 'module' }))
    demo = await startDemoServer()
  }, SLOW)

  afterAll(async () => {
    await demo?.close()
    if (work) rmSync(work, { recursive: true, force: true })
  })

  it('holds the licence, the built code and its types, and nothing unused; runs nothing at install', async () => {
    const listing = await sh('tar', ['tzf', tarball], work)
    const files = listing.stdout.split('\n').filter(Boolean).map((f) => f.replace(/^package\//, ''))
    for (const f of ['LICENSE', 'README.md', 'package.json', 'bin/loads.js', 'bin/start.js', 'dist/index.js', 'dist/index.d.ts', 'dist/cli/main.js', 'dist/ui/loads-ui.js', 'examples/test_blog.ts', 'schema/loads-result.schema.json']) {
      expect(files).toContain(f)
    }
    expect(files.filter((f) => f.endsWith('.map') || f.startsWith('ui/') || f.startsWith('src/') || f.startsWith('test/') || f.startsWith('scripts/') || /tsconfig/.test(f))).toEqual([])
    expect(readFileSync(path.join(ROOT, 'LICENSE'), 'utf8')).toMatch(/Apache License\s+Version 2\.0, January 2004[\s\S]*END OF TERMS AND CONDITIONS/)

    const manifest = JSON.parse((await sh('tar', ['xzOf', tarball, 'package/package.json'], work)).stdout) as {
      scripts: Record<string, string>
      license: string
      bin: Record<string, string>
    }
    expect(manifest.license).toBe('Apache-2.0')
    // npm 11's publish drops a bin whose path starts with ./ ("script name … was invalid and
    // removed"): the registry's package would have no commands. Each is written as npm keeps it.
    expect(manifest.bin).toEqual({
      'loads-runner': 'bin/loads-runner.js',
      'loads-agent': 'bin/loads-agent.js',
      'loads-cluster': 'bin/loads-cluster.js',
      loads: 'bin/loads.js',
    })
    for (const lifecycle of ['preinstall', 'install', 'postinstall', 'prepare']) expect(manifest.scripts[lifecycle]).toBeUndefined()
  })

  it('installs into an empty project, whose TypeScript needs nothing else, and runs a test', async () => {
    const install = await npmInstall([tarball, `typescript@${typescriptVersion}`], project)
    expect(install.code).toBe(0)
    // npm warns about packages with install scripts: Loads is not one of them.
    expect(install.stderr).not.toContain('loads-runner')

    writeFileSync(path.join(project, 'blog.ts'), readFileSync(path.join(ROOT, 'examples/test_blog.ts'), 'utf8'))
    // Strict, and without skipLibCheck: the published declarations are checked too.
    writeFileSync(path.join(project, 'tsconfig.json'), JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true }, files: ['blog.ts'] }))
    const tsc = await sh(process.execPath, ['node_modules/typescript/bin/tsc', '-p', '.'], project)
    expect(tsc.stdout + tsc.stderr).toBe('')
    expect(tsc.code).toBe(0)

    const before = demo.count()
    const r = await sh(process.execPath, ['node_modules/loads-runner/bin/loads-runner.js', 'blog:TestWebSite', '-u', '2', '-c', '3', '--server-url', demo.url, '-q'], project)
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    // 3 tests × 2 users × 3 runs; test_log_in makes 2 requests.
    expect(testResult(r.stdout)).toEqual({ run: 18, errors: 0, failures: 0 })
    expect(demo.count() - before).toBe(24)
  }, SLOW)

  it('`loads init` makes a project that installs, type-checks and runs its first test', async () => {
    // A retry inits afresh: a failed attempt's my-tests would be refused (as the end of this test checks).
    rmSync(path.join(project, 'my-tests'), { recursive: true, force: true })
    const init = await sh(process.execPath, ['node_modules/loads-runner/bin/loads.js', 'init', 'my-tests'], project)
    expect(init.stderr).toBe('')
    expect(init.code).toBe(0)
    expect(init.stdout).toContain('npx loads-runner tests/first-test.ts:FirstTest')
    const app = path.join(project, 'my-tests')
    expect(readdirSync(app).sort()).toEqual(['.gitignore', 'README.md', 'package.json', 'tests', 'tsconfig.json'])

    const install = await npmInstall([], app)
    expect(install.code).toBe(0)
    const tsc = await sh('npx', ['tsc', '--noEmit'], app)
    expect(tsc.stdout + tsc.stderr).toBe('')
    expect(tsc.code).toBe(0)

    const before = demo.count()
    const r = await sh('npx', ['loads-runner', 'tests/first-test.ts:FirstTest', '-u', '2', '-c', '2', '--server-url', demo.url, '-q'], app)
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    // 3 tests × 2 users × 2 runs; test_log_in makes 2 requests.
    expect(testResult(r.stdout)).toEqual({ run: 12, errors: 0, failures: 0 })
    expect(demo.count() - before).toBe(16)

    // A second init there refuses to overwrite, and says so.
    const again = await sh(process.execPath, ['node_modules/loads-runner/bin/loads.js', 'init', 'my-tests'], project)
    expect(again.code).toBe(2)
    expect(again.stderr).toContain('my-tests already has package.json, tsconfig.json, .gitignore, tests/first-test.ts, README.md; nothing was written')
  }, SLOW)
})
