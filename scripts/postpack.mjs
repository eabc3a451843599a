#!/usr/bin/env node
// Puts back the package.json that scripts/prepack.mjs stripped of `prepare` for the tarball.
import { existsSync, renameSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const backup = path.join(root, '.package.json.prepack')
if (existsSync(backup)) renameSync(backup, path.join(root, 'package.json'))
