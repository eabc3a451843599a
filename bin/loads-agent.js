#!/usr/bin/env node
// `loads-agent …` is `loads agent …`.
import { start } from './start.js'
await start(['agent', ...process.argv.slice(2)], 'loads-agent')
