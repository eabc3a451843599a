import { createHash } from 'node:crypto'
import { mkdirSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { build, stop as stopEsbuild, type Message, type Plugin } from 'esbuild'
import { UsageError } from '../errors.js'
import { collectProtoFiles, protoFilesExport } from '../grpc/proto-files.js'

export { API_SLOT, importBundle } from './bundle-file.js'

/** A test module and its local imports as one self-contained ES module (the unit agents receive). */
export interface TestBundle {
  /** The JavaScript source, with an inline source map pointing at the user's files. */
  code: string
  /** Absolute path of the entry module on the machine that built it (for messages). */
  entry: string
  /** sha256 of `code`, short: names the file it is loaded from, so workers share one copy. */
  hash: string
}

/**
 * Bundles a test module with esbuild: TypeScript needs no build step of the user's, the user's
 * own imports (and their npm packages) are inlined, and `import … from 'loads-runner'` is bound
 * to the Loads that loads the bundle — even where the test's folder has no node_modules.
 */
export async function bundleTest(entry: string, apiExportNames: readonly string[]): Promise<TestBundle> {
  const outfile = path.join(os.tmpdir(), 'loads-bundle.mjs')
  let result
  bundling++
  try {
    result = await build({
      entryPoints: [entry],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      write: false,
      outfile,
      sourcemap: 'external',
      sourcesContent: false,
      logLevel: 'silent',
      absWorkingDir: path.dirname(entry),
      // Test files often use top-level await or decorators of their own: keep them as written.
      supported: { 'top-level-await': true },
      banner: {
        // Bundled CommonJS dependencies may call require(): give them one.
        js: "import { createRequire as __loadsCreateRequire } from 'node:module'; const require = __loadsCreateRequire(import.meta.url);",
      },
      plugins: [loadsApiPlugin(apiExportNames)],
    })
  } catch (err) {
    const errors = (err as { errors?: Message[] }).errors
    if (errors && errors.length > 0) throw new UsageError(formatBuildErrors(errors, path.dirname(entry)), undefined, 'LOADS_ERR_TEST_SYNTAX')
    throw err
  } finally {
    // esbuild's service process would otherwise live as long as this one, and it pings this
    // process every second: two processes woken on the cores the load runs on, for nothing. The
    // next build starts a new one.
    if (--bundling === 0) await stopEsbuild()
  }
  const js = result.outputFiles.find((f) => f.path.endsWith('.mjs'))
  const map = result.outputFiles.find((f) => f.path.endsWith('.map'))
  if (!js || !map) throw new Error('esbuild produced no output')
  // .proto files named in the test travel inside the bundle (to workers and agents alike).
  const protos = collectProtoFiles(js.text, path.dirname(entry))
  const code = `${js.text}\n${protoFilesExport(protos)}//# sourceMappingURL=data:application/json;base64,${absoluteSourceMap(map.text, path.dirname(outfile))}\n`
  return { code, entry, hash: createHash('sha256').update(code).digest('hex').slice(0, 16) }
}

/** Builds in flight: esbuild's service is stopped once none is left. */
let bundling = 0

/** Writes the bundle into `dir` (a private folder: see util/private-temp.ts), where this process can import it. */
export function writeBundle(bundle: Pick<TestBundle, 'code' | 'hash'>, dir: string): string {
  mkdirSync(dir, { recursive: true })
  const file = path.join(dir, `test-${bundle.hash}.mjs`)
  writeFileSync(file, bundle.code)
  return file
}

function loadsApiPlugin(exportNames: readonly string[]): Plugin {
  return {
    name: 'loads-runner-api',
    setup(b) {
      b.onResolve({ filter: /^loads-runner$/ }, () => ({ path: 'loads-runner', namespace: 'loads-api' }))
      b.onLoad({ filter: /.*/, namespace: 'loads-api' }, () => ({
        loader: 'js',
        contents: [
          `const api = globalThis[Symbol.for('loads-runner.api')];`,
          `if (!api) throw new Error('this bundle runs inside loads-runner (the Loads API is not installed)');`,
          ...exportNames.map((name) => `export const ${name} = api.${name};`),
        ].join('\n'),
      }))
    },
  }
}

/** Source paths made absolute, so stack traces name the user's files wherever the bundle runs. */
function absoluteSourceMap(text: string, mapDir: string): string {
  const map = JSON.parse(text) as { sources: string[] }
  map.sources = map.sources.map((s) => (s.startsWith('loads-api:') ? s : pathToFileURL(path.resolve(mapDir, s)).href))
  return Buffer.from(JSON.stringify(map)).toString('base64')
}

function formatBuildErrors(errors: Message[], dir: string): string {
  return errors
    .slice(0, 5)
    .map((e) => {
      const loc = e.location
      if (!loc) return e.text
      return `${path.resolve(dir, loc.file)}:${loc.line}:${loc.column + 1}: ${e.text}\n    ${loc.lineText}\n    ${' '.repeat(loc.column)}^`
    })
    .join('\n')
}
