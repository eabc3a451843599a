#!/usr/bin/env node
// `loads-runner …` is `loads run …`.
import { main } from '../dist/cli/main.js'
main(['run', ...process.argv.slice(2)])
