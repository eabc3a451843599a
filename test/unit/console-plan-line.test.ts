import { describe, expect, it } from 'vitest'
import { Writable } from 'node:stream'
import type { ChangeEvent } from '../../src/load/control.js'
import { buildPlan } from '../../src/load/plan.js'
import { ConsoleReporter } from '../../src/report/console/console-reporter.js'
import { formatPlanLine } from '../../src/report/console/plan-line.js'
import type { RunInfo } from '../../src/report/reporter.js'

function info(tests: number, planInput: Parameters<typeof buildPlan>[0], over: Partial<RunInfo> = {}): RunInfo {
  return {
    runId: 'r',
    address: 'api.Api',
    tests: Array.from({ length: tests }, (_, i) => ({ className: 'Api', methodName: `test_${i}` })) as RunInfo['tests'],
    plan: buildPlan(planInput),
    mode: 'local',
    workers: 2,
    startMs: 0,
    ...over,
  }
}

describe('the plan line', () => {
  it('shows users × runs × tests = the total, in the singular where there is one', () => {
    expect(formatPlanLine(info(1, { users: '1', hits: '1' }, { workers: 1 }), { plannedRuns: 1 })).toBe('api.Api: 1 user × 1 run × 1 test = 1 run, on 1 worker')
    expect(formatPlanLine(info(3, { users: '5', hits: '4' }), { plannedRuns: 60 })).toBe('api.Api: 5 users × 4 runs × 3 tests = 60 runs, on 2 workers')
  })

  it('puts the steps in parentheses before the other factors', () => {
    expect(formatPlanLine(info(1, { users: '10:20', hits: '20' }), { plannedRuns: 600 })).toBe(
      'api.Api: (10 users × 20 runs, then 20 users × 20 runs) × 1 test = 600 runs, on 2 workers',
    )
  })

  it('counts the agents of a cluster run, each running the whole plan', () => {
    const cluster = info(2, { users: '10', hits: '20' }, { mode: 'cluster', workers: 0 })
    expect(formatPlanLine(cluster, { plannedRuns: 2000, agents: 5 })).toBe('api.Api: 10 users × 20 runs × 2 tests × 5 agents = 2000 runs, on the cluster')
    expect(formatPlanLine(cluster, { plannedRuns: 400, agents: 1 })).toBe('api.Api: 10 users × 20 runs × 2 tests × 1 agent = 400 runs, on the cluster')
  })

  it('has no total when the plan is bounded by time', () => {
    expect(formatPlanLine(info(3, { users: '10', duration: '30s' }), {})).toBe('api.Api: 3 tests, 10 users for 30s, on 2 workers')
    const cluster = info(1, { users: '10', duration: '30s' }, { mode: 'cluster', workers: 0 })
    expect(formatPlanLine(cluster, { agents: 4 })).toBe('api.Api: 1 test, 10 users for 30s, on each of 4 agents, on the cluster')
  })

  it('is rewritten by live changes: each step says how it was changed, and the planned total goes', () => {
    const at = (s: number): number => s * 1000
    const changes: ChangeEvent[] = [
      { action: 'scale', users: 200, atMs: at(42), by: 'page', step: 0 },
      { action: 'pause', atMs: at(70), by: 'cli', step: 0 },
    ]
    expect(formatPlanLine(info(1, { users: '10', hits: '20' }), { plannedRuns: 200, changes })).toBe(
      'api.Api: 1 test, 10 users × 20 runs, changed at 00:42 to 200 users by the page, paused at 01:10 by the CLI, on 2 workers',
    )
    // A resume takes the pause away; a scale of another step stays with it; a stop is said.
    const more: ChangeEvent[] = [...changes, { action: 'resume', atMs: at(80), by: 'attach', step: 0 }, { action: 'scale', users: 5, atMs: at(95), by: 'api', step: 1 }]
    expect(formatPlanLine(info(1, { users: '10:20', duration: '1m' }), { changes: more })).toBe(
      'api.Api: 1 test, 10 users for 1m, changed at 00:42 to 200 users by the page, then 20 users for 1m, changed at 01:35 to 5 users by the API, on 2 workers',
    )
    const stopped: ChangeEvent[] = [...more, { action: 'stop', atMs: at(100), by: 'api', step: 1 }]
    expect(formatPlanLine(info(1, { users: '10:20', duration: '1m' }), { changes: stopped })).toMatch(/to 5 users by the API, stopped at 01:40 by the API, on 2 workers$/)
  })

  it('is printed again at each change, and a cluster run says its id for loads ctl --run', () => {
    let out = ''
    const stream = new Writable({ write: (chunk: Buffer, _e, cb) => ((out += chunk.toString()), cb()) })
    const reporter = new ConsoleReporter({ stream, isTTY: false, quiet: false, agents: 3, showRunId: true })
    reporter.onRunStart(info(1, { users: '2', duration: '2m' }, { mode: 'cluster', runId: 'd6f48bc7-2e34-482c-9928-43ebe3f5f497', startMs: 1000 }))
    reporter.onChange({ action: 'scale', users: 12, atMs: 13_500, by: 'cli', step: 0 })
    expect(out).toBe(
      'api.Api: 1 test, 2 users for 2m, on each of 3 agents, on the cluster\n' +
        'run d6f48bc7-2e34-482c-9928-43ebe3f5f497: loads ctl scale|pause|resume|stop --run d6f48bc7 changes it live\n' +
        'api.Api: 1 test, 2 users for 2m, changed at 00:12 to 12 users by the CLI, on each of 3 agents, on the cluster\n',
    )
  })
})
