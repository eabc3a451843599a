import { randomUUID } from 'node:crypto'
import os from 'node:os'
import { plannedDurationMs } from '../load/load-shape.js'
import { buildPlan, plannedRuns, type Plan, type PlanInput } from '../load/plan.js'
import { DEFAULT_SNAPSHOT_INTERVAL_MS, DEFAULT_TEST_TIMEOUT_MS, DEFAULT_TIMEOUT_MS, type RunConfig } from '../load/run-config.js'
import { ConsoleReporter } from '../report/console/console-reporter.js'
import type { Reporter, RunInfo, RunOutcome } from '../report/reporter.js'
import { formatThresholdLines, type ThresholdSet } from '../report/thresholds/threshold-set.js'
import { Aggregator } from '../stats/aggregator.js'
import type { RunSummary } from '../stats/types.js'
import { connectionAndData, type ConnectionAndDataOptions } from './config-files.js'
import { finalExitCode } from './exit-codes.js'
import { fdLimitWarning } from './fd-limit.js'
import type { Engine, EngineFactory } from './engine.js'
import { LocalEngine } from './local-engine.js'
import { prepareTest } from './prepare-test.js'

/** The options of a run, as the CLI parsed them (strings where the CLI keeps the user's text). */
export interface RunOptions extends PlanInput, Omit<ConnectionAndDataOptions, 'cwd' | 'agents'> {
  /** `module.Class.method`, `path/file.ts:Class.method`, … */
  address: string
  cwd: string
  users?: string
  hits?: string
  duration?: string
  /** Worker threads; default: one per core, at most one per user. */
  workers?: number
  serverUrl?: string
  timeoutMs?: number
  testTimeoutMs?: number
  insecure?: boolean
  quiet?: boolean
  snapshotIntervalMs?: number
  /** Cluster agents that each run the whole plan (`--agents`): the expected runs are multiplied. */
  agents?: number
}

/** Where a run writes, and how it is told to stop. The CLI gives the process's; tests give their own. */
export interface RunIO {
  stdout: NodeJS.WritableStream
  stderr: NodeJS.WritableStream
  isTTY: boolean
  columns?: number
  /** Aborting it stops the run gracefully (Ctrl-C): the summary covers what was done. */
  signal?: AbortSignal
  /** More outputs (dashboard, files …) beside the console. */
  reporters?: Reporter[]
  /** `--threshold`s, judged on the merged results; with `abortOnFail` they may stop the run. */
  thresholds?: ThresholdSet
}

/** Worker threads of this machine: the default engine. */
export const localEngine: EngineFactory = (ctx) =>
  new LocalEngine({
    bundleFile: ctx.prepared.bundleFile,
    config: ctx.config,
    plan: ctx.plan,
    workers: ctx.workers,
    onSnapshot: (s) => ctx.onSnapshot(s),
    onStep: (i) => ctx.onStep(i),
  })

/**
 * The coordinator: prepares the test, drives an engine (local workers or cluster agents), merges
 * every snapshot, feeds the outputs, and returns the exit code. The same for every scale.
 */
export async function runTests(options: RunOptions, io: RunIO, createEngine: EngineFactory = localEngine): Promise<number> {
  const plan = buildPlan(options)
  const prepared = await prepareTest(options.address, options.cwd)
  const config = runConfig(options, prepared.tests)
  const workers = options.workers ?? defaultWorkers(plan)
  const info: RunInfo = {
    runId: randomUUID(),
    address: options.address,
    tests: prepared.tests,
    plan,
    mode: createEngine === localEngine ? 'local' : 'cluster',
    workers,
    startMs: Date.now(),
  }
  const warning = createEngine === localEngine ? fdLimitWarning(Math.max(...plan.steps.map((s) => s.users))) : undefined
  if (warning) io.stderr.write(`${warning}\n`)
  // The run's clock starts with the first snapshot interval, not while workers boot.
  const aggregator = new Aggregator()
  const reporters: Reporter[] = [
    new ConsoleReporter({ stream: io.stdout, isTTY: io.isTTY, columns: io.columns, quiet: options.quiet ?? false, plannedRuns: expectedRuns(plan, config, options.agents ?? 1), plannedDurationMs: plannedDuration(plan) }),
    ...(io.reporters ?? []),
  ]
  for (const r of reporters) await r.onRunStart?.(info)

  // Set when --abort-on-fail stops the run; a snapshot may come before the engine is returned.
  let abortedBy: string | undefined
  let engineRef: Engine | undefined
  const engine = await createEngine({
    runId: info.runId,
    prepared,
    config,
    plan,
    workers,
    onSnapshot: (snapshot) => {
      // A duplicate (same source and seq, e.g. redelivered after a reconnect) is dropped.
      if (!aggregator.add(snapshot)) return
      for (const r of reporters) r.onSnapshot?.(snapshot, aggregator)
      const failed = abortedBy === undefined ? io.thresholds?.failedForGood(aggregator) : undefined
      if (failed !== undefined) {
        abortedBy = failed.threshold
        engineRef?.stop()
      }
    },
    onStep: (index) => {
      for (const r of reporters) r.onStep?.(index)
    },
  })
  engineRef = engine
  if (abortedBy !== undefined) engine.stop()
  let interrupted = false
  const onAbort = (): void => {
    interrupted = true
    engine.stop()
  }
  if (io.signal?.aborted) onAbort()
  io.signal?.addEventListener('abort', onAbort, { once: true })
  try {
    await engine.run()
  } finally {
    io.signal?.removeEventListener('abort', onAbort)
  }

  const summary = aggregator.summary()
  const thresholds = io.thresholds?.judge(summary, aggregator.encodedHistograms()) ?? []
  const exitCode = finalExitCode({
    interrupted,
    engineCode: engine.exitCode?.(),
    // Tests cut short by an --abort-on-fail stop are the stop's doing, not failures of their own.
    testFailures: summary.tests.errors + summary.tests.failures - (abortedBy !== undefined ? interruptedRuns(summary) : 0),
    thresholdsFailed: thresholds.some((t) => !t.pass),
  })
  const notes = [...(engine.notes?.() ?? []), ...formatThresholdLines(thresholds, abortedBy)]
  const outcome: RunOutcome = { summary, exitCode, interrupted, notes, thresholds, ...(abortedBy !== undefined ? { abortedBy } : {}) }
  for (const r of reporters) await r.onRunEnd?.(outcome, aggregator)
  return outcome.exitCode
}

export function runConfig(options: RunOptions, tests: RunConfig['tests']): RunConfig {
  return {
    tests,
    ...connectionAndData(options, buildPlan(options)),
    ...(options.serverUrl !== undefined ? { serverUrl: options.serverUrl } : {}),
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    testTimeoutMs: options.testTimeoutMs ?? DEFAULT_TEST_TIMEOUT_MS,
    insecure: options.insecure ?? false,
    snapshotIntervalMs: options.snapshotIntervalMs ?? DEFAULT_SNAPSHOT_INTERVAL_MS,
  }
}

/** Test runs recorded as errors because the run stopped under them (see worker-engine's stop). */
function interruptedRuns(summary: RunSummary): number {
  return summary.errors.filter((g) => g.outcome === 'error' && g.kind === 'Interrupted').reduce((n, g) => n + g.count, 0)
}

/** One worker per core, never more workers than the largest step has users. */
export function defaultWorkers(plan: Plan): number {
  const maxUsers = Math.max(...plan.steps.map((s) => s.users))
  return Math.max(1, Math.min(os.availableParallelism(), maxUsers))
}

function plannedDuration(plan: Plan): number | undefined {
  return plannedDurationMs(plan)
}

function expectedRuns(plan: Plan, config: RunConfig, agents: number): number | undefined {
  const runs = plannedRuns(plan)
  return runs === undefined ? undefined : runs * config.tests.length * agents
}
