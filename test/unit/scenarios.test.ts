import { describe, expect, it } from 'vitest'
import { parseIniSection } from '../../src/cli/config-file.js'
import { scenarioInputs, type ScenarioSection } from '../../src/cli/config-scenarios.js'
import { LateSink } from '../../src/load/late-sink.js'
import { arrivalsInStep, workerArrivals } from '../../src/load/open-model.js'
import { agentPlace, buildScenarioPlan, peakUsers, placeShare, scenariosDurationMs, scenarioSteps } from '../../src/load/scenarios.js'
import { GroupTagSink, UserGroups } from '../../src/load/user-groups.js'
import { judgeThresholds } from '../../src/report/thresholds/judge.js'
import { parseThreshold } from '../../src/report/thresholds/threshold.js'
import { Aggregator } from '../../src/stats/aggregator.js'
import { Recorder } from '../../src/stats/recorder.js'
import { mergeResults } from '../../src/report/files/merge-results.js'
import { buildResult, runMeta } from '../../src/report/result.js'

describe('the scenario planner', () => {
  it('lays each scenario’s steps end to end, each naming its scenario, with its own start, pause and think', () => {
    const plan = buildScenarioPlan([
      { name: 'browse', test: 'shop.ts:Browser', users: '10:20', duration: '1m', pause: '5s', think: '1s' },
      { name: 'buy', test: 'shop.ts:Buyer', rate: '5', duration: '2m', start: '30s', tags: { team: 'pay' } },
    ])
    expect(plan.steps).toEqual([
      { users: 10, durationMs: 60_000, scenario: 0 },
      { users: 20, durationMs: 60_000, scenario: 0 },
      { users: 1000, rate: 5, durationMs: 120_000, scenario: 1 },
    ])
    expect(plan.scenarios).toEqual([
      { name: 'browse', startMs: 0, pauseMs: 5000, think: { minMs: 1000, maxMs: 1000 } },
      { name: 'buy', startMs: 30_000, tags: { team: 'pay' } },
    ])
    expect(scenarioSteps(plan, 0)).toEqual([0, 1])
    // browse: 1m + 5s + 1m; buy: 30s + 2m.
    expect(scenariosDurationMs(plan)).toBe(150_000)
    expect(peakUsers(plan)).toBe(1020)
  })

  it.each([
    [{ name: 'a', test: 't.ts', users: '0' }, /^\[scenario\.a\]: -u\/--users expects a whole number/],
    [{ name: 'a', test: 't.ts', rate: '5' }, /^\[scenario\.a\]: --rate needs -d\/--duration/],
    [{ name: 'a', test: 't.ts', start: 'soon' }, /^\[scenario\.a\]: start/],
    [{ name: 'a b', test: 't.ts' }, /a scenario name is letters/],
    [{ name: 'a', test: 't.ts', tags: { scenario: 'x' } }, /^\[scenario\.a\]: tag 'scenario' cannot be a metrics label/],
    [{ name: 'a', test: 't.ts', tags: { 'my-team': 'x' } }, /tag 'my-team' cannot be a metrics label/],
  ])('refuses %j with a message naming the scenario', (input, message) => {
    expect(() => buildScenarioPlan([input])).toThrow(message)
  })

  it('refuses a name given twice', () => {
    expect(() => buildScenarioPlan([{ name: 'a', test: 't.ts' }, { name: 'a', test: 't.ts' }])).toThrow(/\[scenario\.a\] is given twice/)
  })

  it('splits a scenario’s users and arrivals exactly over agents with different worker counts', () => {
    const workersPerAgent = [2, 3, 1]
    for (const users of [1, 2, 7, 100]) {
      const seen: number[] = []
      workersPerAgent.forEach((workers, index) => {
        for (let w = 0; w < workers; w++) {
          const place = agentPlace(w, workers, { index, count: 3 })
          // The worker's users are stepUser = place.worker + i·place.workers (worker-engine).
          for (let i = 0; i < placeShare(users, place.worker, place.workers); i++) seen.push(place.worker + i * place.workers)
        }
      })
      expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: users }, (_, g) => g))
    }
    // The open model's arrivals of 7 runs/s for 3 s: 21, each taken once.
    const total = arrivalsInStep(7, 3000)
    let taken = 0
    workersPerAgent.forEach((workers, index) => {
      for (let w = 0; w < workers; w++) {
        const place = agentPlace(w, workers, { index, count: 3 })
        taken += workerArrivals(total, place.worker, place.workers)
      }
    })
    expect(taken).toBe(21)
  })
})

describe('scenario sections of a config file', () => {
  it('reads INI [scenario.NAME] sections (tables as dotted keys), with or without [loads]', () => {
    const sections: ScenarioSection[] = []
    const entries = parseIniSection('[scenario.browse]\ntest = shop.ts:Browser\nusers = 10\nduration = 1m\nenv.SEARCH = Shoes\n\n[scenario.buy]\ntest = "shop.ts:Buyer"\nrate = 5\nduration = 2m\nstart = 30s\ntags.team = pay\nmax_users = 20\n', 'l.ini', sections)
    expect(entries.size).toBe(0)
    expect(scenarioInputs(sections, 'l.ini')).toEqual([
      { name: 'browse', test: 'shop.ts:Browser', users: '10', duration: '1m', env: { SEARCH: 'Shoes' } },
      { name: 'buy', test: 'shop.ts:Buyer', rate: '5', duration: '2m', start: '30s', tags: { team: 'pay' }, maxUsers: 20 },
    ])
  })

  it.each([
    ['[scenario.a]\nusers = 1', /\[scenario\.a\] has no test/],
    ['[scenario.a]\ntest = t.ts\nspeed = 1', /unknown key 'speed' in \[scenario\.a\]/],
    ['[scenario.a]\ntest = t.ts\nlabels.x = 1', /unknown table 'labels'/],
  ])('refuses %j clearly', (text, message) => {
    const sections: ScenarioSection[] = []
    expect(() => scenarioInputs((parseIniSection(text, 'l.ini', sections), sections), 'l.ini')).toThrow(message)
  })
})

describe('a scenario’s figures', () => {
  it('count each hit of its users (with `expect` honoured and open-model lateness added) and judge scenario: thresholds', () => {
    const rec = new Recorder({ source: 'w', now: () => 0 })
    const record = rec.scenario('buy')
    const sink = new GroupTagSink(rec, new UserGroups(rec), rec, record)
    sink.recordHit('GET', '/gone', 404, 1000, 500, 0, 0, 0, null, false)
    sink.recordHit('GET', '/x', 500, 2000, 500, 0, 0, 0, null)
    sink.recordHit('GET', '/x', 0, 3000, 0, 0, 0, 0, 'ECONNREFUSED')
    const late = new LateSink(rec)
    late.lagUs = 50_000
    new GroupTagSink(late, new UserGroups(rec), rec, record, late).recordHit('GET', '/x', 200, 1000, 500, 0, 0, 0, null)
    record.run('pass', 10_000)
    record.run('failure', 20_000)
    const agg = new Aggregator({ startMs: 0 })
    agg.add(rec.snapshot(true))
    const s = agg.summary()
    // The 404 the test expected is no failure, for the endpoint as for the scenario.
    expect(s.endpoints.find((e) => e.name === '/gone')?.failed).toBe(0)
    expect(s.scenarios).toMatchObject([{ name: 'buy', hits: 4, failed: 2, runs: 2, failures: 1, errors: 0 }])
    expect(s.scenarios?.[0]?.latency.max).toBeCloseTo(51, 0)
    const judged = judgeThresholds(['scenario:buy:errors<=50%', 'scenario:buy:p50<40ms', 'scenario:buy:failed_tests<1', 'scenario:nope:hits>0'].map(parseThreshold), s)
    expect(judged.map((t) => [t.pass, t.measuredText])).toEqual([
      [true, '50.0% (2 of 4 hits)'],
      [true, expect.stringMatching(/ms$/)],
      [false, '1 of 2 test runs'],
      [false, 'no scenario nope ran'],
    ])
    expect(() => parseThreshold('scenario:buy:checks>99%')).toThrow(/a scenario has latency metrics/)
  })
})

describe('scenarios in saved results', () => {
  it('merge again (loads report --merge): counts add, histograms add', () => {
    const rec = new Recorder({ source: 'w', now: () => 0 })
    for (let i = 0; i < 10; i++) rec.scenario('buy').hit(1000 * (i + 1), i === 0)
    rec.scenario('buy').run('pass', 5000)
    rec.scenario('browse').run('error', 7000)
    const agg = new Aggregator({ startMs: 0 })
    agg.add(rec.snapshot(true))
    const plan = buildScenarioPlan([{ name: 'browse', test: 't.ts' }, { name: 'buy', test: 't.ts' }])
    const info = { runId: 'r', address: 't.ts', tests: [{ className: 'T', methodName: 'test_a' }], plan, mode: 'local' as const, workers: 1, startMs: 0 }
    const result = buildResult(runMeta(info), { summary: agg.summary(), exitCode: 0, interrupted: false, notes: [], thresholds: [] }, agg, 'test')
    const twice = mergeResults([result, result])
    expect(twice.summary.scenarios?.map((x) => [x.name, x.runs, x.errors, x.hits, x.failed, x.latency.count, x.duration.count])).toEqual([
      ['browse', 2, 2, 0, 0, 0, 2],
      ['buy', 2, 0, 20, 2, 20, 2],
    ])
    expect(twice.summary.scenarios?.[1]?.latency.p50).toBe(result.summary.scenarios?.[1]?.latency.p50)
  })
})
