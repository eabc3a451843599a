import { describe, expect, it } from 'vitest'
import path from 'node:path'
import { LOADS, LOADS_RUNNER, ROOT, runBin } from '../helpers/cli.js'

const LOADS_AGENT = path.join(ROOT, 'bin', 'loads-agent.js')
const LOADS_CLUSTER = path.join(ROOT, 'bin', 'loads-cluster.js')

describe('--help names the command the user typed', () => {
  it.each([
    [LOADS_RUNNER, ['--help'], 'Usage: loads-runner [options] [tests...]'],
    [LOADS, ['run', '--help'], 'Usage: loads run [options] [tests...]'],
    [LOADS_AGENT, ['--help'], 'Usage: loads-agent [options]'],
    [LOADS_CLUSTER, ['start', '--help'], 'Usage: loads-cluster start [options]'],
  ])('%s %j', async (bin, args, usage) => {
    const r = await runBin(bin, args, { cwd: ROOT })
    expect(r.code).toBe(0)
    expect(r.stdout.split('\n')[0]).toBe(usage)
  })
})
