import { PassThrough } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { applyConfig, parseIniSection } from '../../src/cli/config-file.js'
import { runCommand } from '../../src/cli/run-command.js'
import { parseByteSize } from '../../src/load/byte-size.js'
import { runConfig } from '../../src/runner/run.js'

describe('byte sizes (--max-body)', () => {
  it('reads bytes, SI units (as the summary prints) and binary units, in any case', () => {
    expect(parseByteSize('1048576', '--max-body')).toBe(1_048_576)
    expect(parseByteSize('0', '--max-body')).toBe(0)
    expect(parseByteSize('500kB', '--max-body')).toBe(500_000)
    expect(parseByteSize('64MB', '--max-body')).toBe(64_000_000)
    expect(parseByteSize('1.5GB', '--max-body')).toBe(1_500_000_000)
    expect(parseByteSize('64MiB', '--max-body')).toBe(64 * 2 ** 20)
    expect(parseByteSize(' 1 gib ', '--max-body')).toBe(2 ** 30)
    expect(parseByteSize('512KiB', '--max-body')).toBe(512 * 1024)
    expect(parseByteSize('10b', '--max-body')).toBe(10)
  })

  it('refuses anything else with a message naming the flag and the text', () => {
    for (const bad of ['', '-1', '10m', '1TB', 'lots', '1e9', '0x10']) {
      expect(() => parseByteSize(bad, '--max-body')).toThrow(`--max-body expects a size like 1048576, 500kB, 64MB, 64MiB or 1GiB: got '${bad}'`)
    }
    expect(() => parseByteSize('99999999999GiB', '--max-body')).toThrow('--max-body 99999999999GiB is too large')
  })
})

describe('--max-body and --discard-bodies on loads run', () => {
  const command = () =>
    runCommand({ stdout: new PassThrough(), stderr: new PassThrough(), isTTY: false, cwd: process.cwd(), env: {}, signal: new AbortController().signal })

  it('are in --help with the default and the k6 equivalent', () => {
    const help = command().helpInformation().replace(/\s+/g, ' ')
    expect(help).toMatch(/--max-body <size> the largest response body kept/)
    expect(help).toContain('32MiB (default)')
    expect(help).toMatch(/--discard-bodies count response bodies without keeping them/)
    expect(help).toContain("k6's discardResponseBodies")
  })

  it('are read from a config file through the same parser', () => {
    const cmd = command()
    cmd.parseOptions([])
    applyConfig(cmd, parseIniSection('[loads]\nmax-body = 2MiB\ndiscard-bodies = yes', 'l.ini'), 'l.ini')
    expect(cmd.opts()).toMatchObject({ maxBody: 2 * 2 ** 20, discardBodies: true })
    expect(() => applyConfig(command(), parseIniSection('[loads]\nmax-body = big', 'l.ini'), 'l.ini')).toThrow(/l\.ini: max-body = big: --max-body expects a size/)
  })

  it('travel in the run config that workers and agents receive', () => {
    const options = { address: 'a.B.c', cwd: process.cwd() }
    expect(runConfig({ ...options, maxBodyBytes: 1000, discardBodies: true }, [])).toMatchObject({ maxBodyBytes: 1000, discardBodies: true })
    const plain = runConfig(options, [])
    expect('maxBodyBytes' in plain || 'discardBodies' in plain).toBe(false)
    // Agents get the config as JSON inside their run request.
    expect(JSON.parse(JSON.stringify(runConfig({ ...options, maxBodyBytes: 0 }, [])))).toMatchObject({ maxBodyBytes: 0 })
  })
})
