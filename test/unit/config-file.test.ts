import { Command } from 'commander'
import { describe, expect, it } from 'vitest'
import { applyConfig, parseIniSection } from '../../src/cli/config-file.js'
import { positiveInt } from '../../src/cli/options.js'

function command(): Command {
  return new Command('run')
    .option('-u, --users <n>', 'users')
    .option('-w, --workers <n>', 'workers', positiveInt('--workers'))
    .option('--server-url <url>', 'base')
    .option('--insecure', 'tls')
    .option('--resolve <entry>', 'pin', (v: string, prev: string[] = []) => [...prev, v])
}

describe('config files: a [loads] section whose keys are the long flags', () => {
  it('reads the [loads] section of an INI file, ignoring comments and other sections', () => {
    const entries = parseIniSection(
      ['; made by hand', '[other]', 'users = 99', '[loads]', 'users = 10:20', 'server_url: "http://127.0.0.1:8080"', '# a comment', 'resolve = a:1:127.0.0.1', 'resolve = b:2:127.0.0.1', 'insecure = yes'].join('\n'),
      'loads.ini',
    )
    expect(Object.fromEntries(entries)).toEqual({
      users: ['10:20'],
      'server-url': ['http://127.0.0.1:8080'],
      resolve: ['a:1:127.0.0.1', 'b:2:127.0.0.1'],
      insecure: ['yes'],
    })
  })

  it('fills what the command line left unset, through each option parser; the command line wins', () => {
    const cmd = command()
    cmd.parse(['-u', '5'], { from: 'user' })
    applyConfig(cmd, parseIniSection('[loads]\nusers = 10\nworkers = 3\ninsecure = true\nresolve = a:1:127.0.0.1\nresolve = b:2:127.0.0.1', 'l.ini'), 'l.ini')
    expect(cmd.opts()).toEqual({ users: '5', workers: 3, insecure: true, resolve: ['a:1:127.0.0.1', 'b:2:127.0.0.1'] })
  })

  it('names every unknown key, and a bad value with its file and key', () => {
    const cmd = command()
    cmd.parse([], { from: 'user' })
    expect(() => applyConfig(cmd, parseIniSection('[loads]\nuserz = 1\nspeed = 2\nusers = 3', 'l.ini'), 'l.ini')).toThrow(
      'l.ini: unknown keys in [loads]: userz, speed',
    )
    expect(() => applyConfig(cmd, parseIniSection('[loads]\nworkers = 0', 'l.ini'), 'l.ini')).toThrow(/l\.ini: workers = 0: --workers expects a whole number/)
    expect(() => applyConfig(cmd, parseIniSection('[loads]\ninsecure = maybe', 'l.ini'), 'l.ini')).toThrow(/expected true or false/)
  })

  it('refuses a file without a [loads] section, and keys outside any section', () => {
    expect(() => parseIniSection('[other]\nusers = 1', 'l.ini')).toThrow(/no \[loads\] section/)
    expect(() => parseIniSection('users = 1\n[loads]', 'l.ini')).toThrow(/l\.ini:1: 'users' is outside any section/)
  })
})
