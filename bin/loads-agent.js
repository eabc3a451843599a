#!/usr/bin/env node
// `loads-agent …` is `loads agent …`.
import { main } from '../dist/cli/main.js'
main(['agent', ...process.argv.slice(2)])
