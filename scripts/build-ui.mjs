#!/usr/bin/env node
// Bundles the dashboard and report front end (ui/, with uPlot) into dist/ui/loads-ui.{js,css}.
// Runs after tsc in `npm run build`: it uses the compiled bundler in dist/.
import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { bundleUi, UI_CSS, UI_DIST, UI_JS } from '../dist/report/html/ui-assets.js'

const { js, css } = bundleUi()
mkdirSync(UI_DIST, { recursive: true })
writeFileSync(path.join(UI_DIST, UI_JS), js)
writeFileSync(path.join(UI_DIST, UI_CSS), css)
console.log(`ui: ${path.relative(process.cwd(), UI_DIST)}/${UI_JS} ${(js.length / 1024).toFixed(0)} kB, ${UI_CSS} ${(css.length / 1024).toFixed(0)} kB`)
