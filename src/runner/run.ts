import { randomUUID } from 'node:crypto'
import os from 'node:os'
import path from 'node:path'
import { plannedDurationMs } from '../load/load-shape.js'
import { testsPerRun } from '../load/task-picker.js'
import { splitUsers } from '../load/user-classes.js'
import { buildPlan, plannedRuns, type Plan, type PlanInput } from '../load/plan.js'
import { buildScenarioPlan, peakUsers, scenarioSteps, scenariosDurationMs, type ScenarioInput } from '../load/scenarios.js'
import { DEFAULT_SNAPSHOT_INTERVAL_MS, DEFAULT_TEST_TIMEOUT_MS, DEFAULT_TIMEOUT_MS, type RunConfig } from '../load/run-config.js'
import { ConsoleReporter } from '../report/console/console-reporter.js'
import type { Reporter, RunInfo, RunOutcome } from '../report/reporter.js'
import { formatThresholdLines, type ThresholdSet } from '../report/thresholds/threshold-set.js'
import { Aggregator } from '../stats/aggregator.js'
import type { RunSummary } from '../stats/types.js'
import { UsageError } from '../errors.js'
import { removeTempFolder } from '../util/private-temp.js'
import { connectionAndData, type ConnectionAndDataOptions } from './config-files.js'
import { finalExitCode } from './exit-codes.js'
import { fdLimitWarning } from './fd-limit.js'
import type { Engine, EngineFactory } from './engine.js'
import { ControlError, type LiveControl } from './live-control.js'
import { LocalEngine, MAX_WORKERS_PER_CORE } from './local-engine.js'
import { RunChanges } from './run-changes.js'
import { prepareTest, type PreparedTest } from './prepare-test.js'

/** The options of a run, as the CLI parsed them (strings where the CLI keeps the user's text). */
export interface RunOptions extends PlanInput, Omit<ConnectionAndDataOptions, 'cwd' | 'agents'> {
  /** `module.Class.method`, `path/file.ts:Class.method`, … */
  address: string
  /** More addresses of the same file (`shop.ts:Browser shop.ts:Buyer`): their classes share the users. */
  moreAddresses?: string[]
  cwd: string
  users?: string
  hits?: string
  duration?: string
  /** Worker threads; default: one per core; never more than users, nor `MAX_WORKERS_PER_CORE` per core. */
  workers?: number
  /** Heap limit of each worker thread, MB (`--worker-heap`). */
  workerHeapMb?: number
  serverUrl?: string
  timeoutMs?: number
  /** `--headers-timeout`, ms (default: none). */
  headersTimeoutMs?: number
  /** `--body-timeout`, ms (default: none). */
  bodyTimeoutMs?: number
  /** `--max-body`, bytes (0: no limit; default 32 MiB). */
  maxBodyBytes?: number
  /** `--discard-bodies`. */
  discardBodies?: boolean
  testTimeoutMs?: number
  insecure?: boolean
  quiet?: boolean
  snapshotIntervalMs?: number
  /** `--trace-context`: W3C traceparent, tracestate and baggage (run id, user, test) on every request. */
  traceContext?: boolean
  /** Cluster agents that each run the whole plan (`--agents`): the expected runs are multiplied. */
  agents?: number
  /** `-e` / `--env-file`, parsed: set in every worker's and agent's process.env. */
  env?: Record<string, string>
  /** `--seed`: reproducible random choices. */
  seed?: number
  /**
   * Config-file scenarios (`[scenario.NAME]`): they replace `address`, `moreAddresses` and the
   * shape options; `address` is then the first scenario's test.
   */
  scenarios?: ScenarioInput[]
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
  /** Live control (the dashboard's API, `loads ctl`): bound to this run while it goes. */
  control?: LiveControl
  /**
   * The environment this machine's worker threads start from (the CLI's `CliIO.env`, which an
   * in-process caller may set apart from the process's); `process.env` when absent. The run's
   * `-e` / `--env-file` variables go over it. Cluster agents keep their own.
   */
  env?: NodeJS.ProcessEnv
}

/** Worker threads of this machine: the default engine. */
export const localEngine: EngineFactory = (ctx) =>
  new LocalEngine({
    bundleFile: ctx.prepared.bundleFile,
    config: ctx.config,
    plan: ctx.plan,
    workers: ctx.workers,
    ...(ctx.workerEnv !== undefined ? { workerEnv: ctx.workerEnv } : {}),
    onSnapshot: (s) => ctx.onSnapshot(s),
    onStep: (i) => ctx.onStep(i),
  })

/**
 * The coordinator: prepares the test, drives an engine (local workers or cluster agents), merges
 * every snapshot, feeds the outputs, and returns the exit code. The same for every scale.
 */
export async function runTests(options: RunOptions, io: RunIO, createEngine: EngineFactory = localEngine): Promise<number> {
  const scenarios = options.scenarios
  const { plan, prepared, config } = await planRun(options)
  // A cluster's agents cap -w at their own cores.
  const workers = options.workers === undefined ? defaultWorkers(plan) : createEngine === localEngine ? checkWorkers(options.workers, plan) : options.workers
  const info: RunInfo = {
    runId: randomUUID(),
    address: scenarios !== undefined ? scenarios.map((s) => `${s.name}=${s.test}`).join(' ') : [options.address, ...(options.moreAddresses ?? [])].join(' '),
    tests: prepared.tests,
    plan,
    mode: createEngine === localEngine ? 'local' : 'cluster',
    workers,
    startMs: Date.now(),
  }
  if (options.traceContext === true) config.traceContext = { runId: info.runId }
  const warning = createEngine === localEngine ? fdLimitWarning(peakUsers(plan)) : undefined
  if (warning) io.stderr.write(`${warning}\n`)
  // The run's clock starts with the first snapshot interval, not while workers boot.
  const aggregator = new Aggregator()
  const reporters: Reporter[] = [
    new ConsoleReporter({ stream: io.stdout, isTTY: io.isTTY, columns: io.columns, quiet: options.quiet ?? false, plannedRuns: expectedRuns(plan, config, options.agents ?? 1), plannedDurationMs: plannedDuration(plan), agents: options.agents, showRunId: createEngine !== localEngine }),
    ...(io.reporters ?? []),
  ]
  for (const r of reporters) await r.onRunStart?.(info)

  // Set when --abort-on-fail stops the run; a snapshot may come before the engine is returned.
  let abortedBy: string | undefined
  let engineRef: Engine | undefined
  let changes: RunChanges | undefined
  const engine = await createEngine({
    runId: info.runId,
    prepared,
    config,
    plan,
    workers,
    ...(io.env !== undefined ? { workerEnv: io.env } : {}),
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
    onUndelivered: (source, undelivered) => aggregator.undelivered(source, undelivered),
    onUnfinished: (source, unfinished) => aggregator.unfinished(source, unfinished),
    onStep: (index) => {
      changes?.step(index)
      for (const r of reporters) r.onStep?.(index)
    },
    applyChange: (change, by) => {
      if (changes === undefined) throw new ControlError('the run is still starting: try again in a moment')
      return changes.apply(change, by)
    },
  })
  engineRef = engine
  if (abortedBy !== undefined) engine.stop()
  let interrupted = false
  const onAbort = (): void => {
    interrupted = true
    engine.stop()
  }
  changes = new RunChanges(plan, engine, reporters, onAbort)
  io.control?.bind(changes)
  if (io.signal?.aborted) onAbort()
  io.signal?.addEventListener('abort', onAbort, { once: true })
  try {
    await engine.run()
  } finally {
    changes.end()
    io.control?.bind(undefined)
    io.signal?.removeEventListener('abort', onAbort)
    removeTempFolder(path.dirname(prepared.bundleFile))
  }

  // Stopped from elsewhere (a purge): interrupted, as for Ctrl-C — but a stop of our own
  // --abort-on-fail is the thresholds' verdict, not an interruption.
  if (abortedBy === undefined && engine.interrupted?.() === true) interrupted = true
  const summary = aggregator.summary()
  const thresholds = io.thresholds?.judge(summary, aggregator.encodedHistograms()) ?? []
  const exitCode = finalExitCode({
    interrupted,
    engineCode: engine.exitCode?.(),
    // Tests cut short by a stop of ours (--abort-on-fail) or a scale-down are not failures of their own.
    testFailures: summary.tests.errors + summary.tests.failures - (abortedBy !== undefined || changes.events.length > 0 ? interruptedRuns(summary) : 0),
    thresholdsFailed: thresholds.some((t) => !t.pass),
  })
  const notes = [...(engine.notes?.() ?? []), ...formatThresholdLines(thresholds, abortedBy)]
  const outcome: RunOutcome = { summary, exitCode, interrupted, notes, thresholds, ...(abortedBy !== undefined ? { abortedBy } : {}), ...(changes.events.length > 0 ? { changes: changes.events } : {}) }
  // Every output gets its turn even if one cannot write (a full disk): then that one's error.
  let failedOutput: unknown
  for (const r of reporters) {
    try {
      await r.onRunEnd?.(outcome, aggregator)
    } catch (err) {
      failedOutput ??= err
    }
  }
  if (failedOutput !== undefined) throw failedOutput
  return outcome.exitCode
}

/** The plan, the prepared test and the run's configuration (local, cluster and detached runs alike). */
export async function planRun(options: RunOptions): Promise<{ plan: Plan; prepared: PreparedTest; config: RunConfig }> {
  const scenarios = options.scenarios
  const plan = scenarios !== undefined ? buildScenarioPlan(scenarios) : buildPlan(options)
  const prepared = scenarios !== undefined
    ? await prepareTest(scenarios[0]!.test, options.cwd, scenarios.slice(1).map((s) => s.test), { scenarios: true })
    : await prepareTest(options.address, options.cwd, options.moreAddresses)
  const config = runConfig(options, prepared.tests, prepared.userClasses, plan)
  if (scenarios !== undefined) {
    config.scenarios = scenarios.map((s, i) => ({ name: s.name, tests: prepared.addressTests[i]!, ...(s.env !== undefined ? { env: s.env } : {}) }))
  }
  return { plan, prepared, config }
}

export function runConfig(options: RunOptions, tests: RunConfig['tests'], userClasses?: RunConfig['userClasses'], plan: Plan = buildPlan(options)): RunConfig {
  return {
    tests,
    ...(userClasses !== undefined ? { userClasses } : {}),
    ...connectionAndData(options, plan),
    ...(options.serverUrl !== undefined ? { serverUrl: options.serverUrl } : {}),
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    ...(options.headersTimeoutMs !== undefined ? { headersTimeoutMs: options.headersTimeoutMs } : {}),
    ...(options.bodyTimeoutMs !== undefined ? { bodyTimeoutMs: options.bodyTimeoutMs } : {}),
    ...(options.maxBodyBytes !== undefined ? { maxBodyBytes: options.maxBodyBytes } : {}),
    ...(options.discardBodies === true ? { discardBodies: true } : {}),
    testTimeoutMs: options.testTimeoutMs ?? DEFAULT_TEST_TIMEOUT_MS,
    insecure: options.insecure ?? false,
    snapshotIntervalMs: options.snapshotIntervalMs ?? DEFAULT_SNAPSHOT_INTERVAL_MS,
    ...(options.workerHeapMb !== undefined ? { workerHeapMb: options.workerHeapMb } : {}),
    ...(options.env !== undefined ? { env: options.env } : {}),
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
  }
}

/**
 * `-w N`: at most one worker per user of the largest step (more would have nothing to do), and
 * at most `MAX_WORKERS_PER_CORE` per core (beyond that a clear message, not 999 threads).
 */
export function checkWorkers(workers: number, plan: Plan, cores = os.availableParallelism()): number {
  const limit = MAX_WORKERS_PER_CORE * cores
  if (workers > limit) {
    throw new UsageError(`--workers ${workers} is more than ${MAX_WORKERS_PER_CORE} per core (${limit} on this machine's ${cores} cores)`, 'threads beyond the cores only compete for them: leave -w out (one per core), or add machines with --agents')
  }
  return Math.max(1, Math.min(workers, peakUsers(plan)))
}

/** Test runs recorded as errors because the run stopped under them (see worker-engine's stop). */
export function interruptedRuns(summary: RunSummary): number {
  return summary.errors.filter((g) => g.outcome === 'error' && g.kind === 'Interrupted').reduce((n, g) => n + g.count, 0)
}

/** One worker per core, never more workers than the largest step has users. */
export function defaultWorkers(plan: Plan): number {
  return Math.max(1, Math.min(os.availableParallelism(), peakUsers(plan)))
}

function plannedDuration(plan: Plan): number | undefined {
  return plan.scenarios !== undefined ? scenariosDurationMs(plan) : plannedDurationMs(plan)
}

function expectedRuns(plan: Plan, config: RunConfig, agents: number): number | undefined {
  const runs = plannedRuns(plan)
  if (runs === undefined) return undefined
  if (plan.scenarios !== undefined) {
    // Each scenario's users run its own tests; its figures are the run's, split over agents.
    let total = 0
    plan.scenarios.forEach((_sc, i) => {
      const perRun = testsPerRun(config.scenarios![i]!.tests.map((k) => config.tests[k]!))
      for (const k of scenarioSteps(plan, i)) total += plan.steps[k]!.users * (plan.steps[k]!.hits ?? 0) * perRun
    })
    return total
  }
  const classes = config.userClasses
  if (classes === undefined) return runs * testsPerRun(config.tests) * agents
  // Each user runs its own class's tests: add up class by class over the global users.
  let total = 0
  for (const step of plan.steps) {
    const split = splitUsers(step.users * agents, classes)
    classes.forEach((c, i) => (total += split[i]! * (step.hits ?? 0) * testsPerRun(config.tests.filter((t) => t.className === c.className))))
  }
  return total
}
