#!/usr/bin/env node
// `loads-runner …` is `loads run …`.
import { start } from './start.js'
await start(['run', ...process.argv.slice(2)], 'loads-runner')
