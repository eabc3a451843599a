#!/usr/bin/env node
// `loads-cluster start|status|stop …` is `loads cluster …`.
import { start } from './start.js'
await start(['cluster', ...process.argv.slice(2)], 'loads-cluster')
