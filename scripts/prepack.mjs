#!/usr/bin/env node
// `npm pack` and `npm publish`: build dist/ afresh, then leave `prepare` out of the packed
// package.json (scripts/postpack.mjs puts it back). `prepare` builds a clone; in a tarball it
// would never run, yet npm lists it in its allow-scripts warning on every install from a
// tarball. The same move as pinst's for husky's postinstall.
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const manifest = path.join(root, 'package.json')
const BACKUP = path.join(root, '.package.json.prepack')

// A pack that failed after this script left package.json stripped: put it back first.
if (existsSync(BACKUP)) renameSync(BACKUP, manifest)

// A fresh dist/: no file of a deleted source, no stale source map. (LOADS_PACK_PREBUILT=1 packs
// the dist/ there is: the package test packs a copy of a tree the test run has just built.)
if (process.env.LOADS_PACK_PREBUILT !== '1') {
  rmSync(path.join(root, 'dist'), { recursive: true, force: true })
  const npmCli = process.env.npm_execpath
  const [cmd, pre] = npmCli && npmCli.endsWith('.js') ? [process.execPath, [npmCli]] : ['npm', []]
  const r = spawnSync(cmd, [...pre, 'run', 'build'], { cwd: root, stdio: 'inherit' })
  if (r.status !== 0) process.exit(r.status || 1)
}

const text = readFileSync(manifest, 'utf8')
const pkg = JSON.parse(text)
if (pkg.scripts?.prepare !== undefined) {
  writeFileSync(BACKUP, text)
  delete pkg.scripts.prepare
  writeFileSync(manifest, `${JSON.stringify(pkg, null, 2)}\n`)
}
