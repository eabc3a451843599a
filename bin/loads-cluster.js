#!/usr/bin/env node
// `loads-cluster start|status|stop …` is `loads cluster …`.
import { main } from '../dist/cli/main.js'
main(['cluster', ...process.argv.slice(2)])
