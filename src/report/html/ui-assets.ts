/**
 * The front end's bundle (ui/ with uPlot, one JS and one CSS file). `npm run build` writes it to
 * dist/ui/ (scripts/build-ui.mjs); the dashboard serves it and the static report inlines it.
 * Nothing comes from a CDN. In a source checkout without a build it is bundled on first use.
 */
import { buildSync } from 'esbuild'
import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

export interface UiAssets {
  js: string
  css: string
}

/** The package's root: this file is dist/report/html/ (or src/report/html/ under test). */
export const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..')
export const UI_DIST = path.join(PACKAGE_ROOT, 'dist', 'ui')
export const UI_JS = 'loads-ui.js'
export const UI_CSS = 'loads-ui.css'

let cached: UiAssets | undefined

export function loadUiAssets(): UiAssets {
  if (cached !== undefined) return cached
  const js = path.join(UI_DIST, UI_JS)
  const css = path.join(UI_DIST, UI_CSS)
  cached = existsSync(js) && existsSync(css) ? { js: readFileSync(js, 'utf8'), css: readFileSync(css, 'utf8') } : bundleUi()
  return cached
}

/** Bundles ui/src/main.ts with esbuild: minified, for browsers of the last few years. */
export function bundleUi(root = PACKAGE_ROOT): UiAssets {
  const result = buildSync({
    entryPoints: [path.join(root, 'ui', 'src', 'main.ts')],
    bundle: true,
    minify: true,
    format: 'iife',
    target: ['es2020', 'chrome100', 'firefox100', 'safari15'],
    outdir: path.join(root, 'dist', 'ui'),
    entryNames: 'loads-ui',
    write: false,
    legalComments: 'eof',
    // uPlot's header is not a legal comment (esbuild would drop it): its MIT notice goes first.
    banner: { js: thirdPartyNotices(), css: thirdPartyNotices() },
    logLevel: 'silent',
  })
  const js = result.outputFiles.find((f) => f.path.endsWith('.js'))?.text
  const css = result.outputFiles.find((f) => f.path.endsWith('.css'))?.text
  if (js === undefined || css === undefined) throw new Error('bundling ui/ gave no JS or CSS')
  return { js, css }
}

/** The notices the MIT License asks to keep with the bundled code: uPlot's. */
export function thirdPartyNotices(): string {
  const require = createRequire(import.meta.url)
  const pkgFile = require.resolve('uplot/package.json')
  const { version } = JSON.parse(readFileSync(pkgFile, 'utf8')) as { version: string }
  const license = readFileSync(path.join(path.dirname(pkgFile), 'LICENSE'), 'utf8').replaceAll('*/', '* /').trim()
  return `/*! Third-party code bundled here: uPlot ${version}, https://github.com/leeoniya/uPlot\n${license}\n*/`
}
