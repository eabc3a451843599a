import { readFileSync, rmSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunResult } from '../../src/report/result.js'
import { startCountingServer, type CountingServer } from '../helpers/counting-server.js'
import { GENERATOR_TESTS } from '../helpers/generator-tests.js'
import { LOADS_RUNNER, runBin, tempProject, testResult } from '../helpers/cli.js'

const ADVICE = "latencies may include Loads' own queueing: add workers (-w), agents, or reduce think-free users"

describe('generator health: Loads says when it is the bottleneck', () => {
  let server: CountingServer
  let dir: string
  beforeAll(async () => {
    server = await startCountingServer()
    dir = tempProject({ 'gen.ts': GENERATOR_TESTS })
  })
  afterAll(async () => {
    await server.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('warns during the run and in the summary about a worker its users starve, and its threshold fails with exit 4', async () => {
    const before = server.count
    const r = await runBin(
      LOADS_RUNNER,
      ['gen.Gen.test_burn', '-u', '20', '-d', '10s', '-w', '1', '--threshold', 'generator_elu<90%', '--threshold', 'errors<1%', '--output', 'json:out.json'],
      { cwd: dir, env: { TARGET: server.url } },
    )
    expect(r.stderr).toBe('--output json:out.json: wrote out.json\n')
    const result = testResult(r.stdout)!
    expect(result).toEqual({ run: result.run, errors: 0, failures: 0 })
    expect(server.countByPath.get('/burn') ?? 0).toBe(server.count - before)
    expect(server.count - before).toBe(result.run)
    // During the run, as soon as the worker has stayed over 90% for 5 s: before the summary (10 s
    // leave a slow start its margin: at 7 s a run beside another file once ended first).
    const live = r.stdout.indexOf('warning: worker-0: event-loop utilisation ≥ 90% since ')
    expect(live).toBeGreaterThan(-1)
    expect(live).toBeLessThan(r.stdout.indexOf('\nDuration:'))
    expect(r.stdout).toContain(`: ${ADVICE}\n`)
    // A worker its users starve is busy all the time: 99% or 100% by the second (CI saw 99%).
    expect(r.stdout).toMatch(/^Generator: event-loop utilisation max (99|100)% p95 \d+%/m)
    expect(r.stdout).toMatch(/^ {2}WARNING worker-0: event-loop utilisation ≥ 90% from \d+ s to \d+ s \(\d+ s, peak \d+%\)$/m)
    expect(r.stdout).toContain(`  ${ADVICE}\n`)
    expect(r.stdout).toMatch(/^ {2}FAIL {2}generator_elu<90% +generator_elu \d+\.\d% \(worker-0\)$/m)
    expect(r.stdout).toMatch(/^ {2}pass {2}errors<1%/m)
    expect(r.code).toBe(4)

    const saved = JSON.parse(readFileSync(path.join(dir, 'out.json'), 'utf8')) as RunResult
    const g = saved.summary.generator!
    expect(g.sources.map((s) => s.source)).toEqual(['worker-0'])
    expect(g.worstEluP95).toBeGreaterThanOrEqual(0.9)
    const w = g.warnings.find((x) => x.kind === 'elu')!
    expect(w).toMatchObject({ source: 'worker-0', over: false })
    expect(w.toS - w.fromS).toBeGreaterThanOrEqual(5)
    // On the latency series' time axis.
    expect(saved.generatorSeries!.t.at(-1)).toBe(saved.series.at(-1)!.t)
  })

  it('says nothing about a light run (few users, long think), whose threshold passes', async () => {
    const before = server.count
    const r = await runBin(
      LOADS_RUNNER,
      ['gen.Gen.test_light', '-u', '2', '-d', '4s', '--think', '300ms', '-w', '2', '--threshold', 'generator_elu<90%'],
      { cwd: dir, env: { TARGET: server.url } },
    )
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const result = testResult(r.stdout)!
    expect(server.count - before).toBe(result.run)
    expect(r.stdout).toMatch(/^Generator: event-loop utilisation max \d+% p95 \d+%.*\(2 sources; /m)
    expect(r.stdout).not.toMatch(/warning:|WARNING/)
    expect(r.stdout).not.toContain(ADVICE)
    expect(r.stdout).toMatch(/^ {2}pass {2}generator_elu<90% +generator_elu \d+\.\d+% \(worker-\d, the worst of 2\)$/m)
  })
})
