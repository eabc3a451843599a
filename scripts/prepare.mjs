#!/usr/bin/env node
// npm runs `prepare` after `npm install` in a clone, and on `npm install -g .` and `npm link`,
// which link the clone without installing its dependencies. It never runs when Loads is
// installed from a tarball or the registry (and `npm pack` leaves it out of the package: see
// scripts/prepack.mjs), which ship dist/ built.
//
// - With the dev tools installed (a developer's clone): build dist/ (tsc + the UI bundle).
// - Without them and with dist/ built (e.g. `npm ci --omit=dev` over a built tree): nothing.
// - Without them and without dist/ (a fresh clone given to `npm install -g .`): install the
//   locked dependencies into the clone first, then build, so the linked commands work.
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const hasDevTools = existsSync(path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'))
const isBuilt = existsSync(path.join(root, 'dist', 'cli', 'main.js')) && existsSync(path.join(root, 'dist', 'ui', 'loads-ui.js'))
const npmCli = process.env.npm_execpath

/** Runs npm in the clone itself, whatever the outer command was (-g, --omit=dev …). */
function npm(args) {
  const env = { ...process.env }
  for (const key of Object.keys(env)) {
    if (/^npm_config_(global|location|prefix|omit|include|only|production|dev|ignore_scripts)$/i.test(key)) delete env[key]
  }
  const [cmd, pre] = npmCli && npmCli.endsWith('.js') ? [process.execPath, [npmCli]] : ['npm', []]
  const r = spawnSync(cmd, [...pre, ...args], { cwd: root, env, stdio: 'inherit' })
  if (r.status !== 0) {
    console.error(`loads-runner prepare: \`npm ${args.join(' ')}\` failed in ${root} (exit ${r.status ?? r.signal})`)
    process.exit(r.status || 1)
  }
}

if (!hasDevTools) {
  if (isBuilt) process.exit(0)
  console.error(`loads-runner prepare: installing the dependencies in ${root} to build Loads from source`)
  npm(['ci', '--include=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--global=false'])
}
npm(['run', 'build'])
