/**
 * `--attach [RUN_ID]`: follows a run someone else started (a `--detach`ed one, or one whose
 * runner died) from its stream — every stored snapshot replayed, then live ones — to the same
 * progress line, summary and per-agent lines as the runner that started it would have printed.
 */
import type { NatsConnection } from '@nats-io/transport-node'
import type { ChangeEvent } from '../load/control.js'
import { plannedRuns } from '../load/plan.js'
import { ConsoleReporter } from '../report/console/console-reporter.js'
import type { Reporter, RunInfo, RunOutcome } from '../report/reporter.js'
import { formatThresholdLines } from '../report/thresholds/threshold-set.js'
import { ExitCode, finalExitCode } from '../runner/exit-codes.js'
import { ControlError } from '../runner/live-control.js'
import { interruptedRuns, type RunIO } from '../runner/run.js'
import { Aggregator } from '../stats/aggregator.js'
import { isPartial, openJetStream, watcherNotes } from './cluster-engine.js'
import { ConnectionWatch } from './connection-watch.js'
import { connectBroker, type BrokerOptions } from './nats-connection.js'
import { requestChange } from './remote-control.js'
import { RunControl } from './run-control.js'
import { findRun } from './run-stream.js'
import { RunWatcher } from './run-watcher.js'
import { ClusterError } from './submit-run.js'

export interface AttachOptions {
  broker: BrokerOptions
  /** A run id or a unique prefix of one; the newest run when undefined. */
  runId: string | undefined
  quiet: boolean
  /** Aborting it stops the run (the agents stop; the summary follows). */
  stopSignal?: AbortSignal
  /** Aborting it leaves the run going and returns. */
  detachSignal?: AbortSignal
  notice(line: string): void
  /** How long to wait for a broker that stopped answering before giving up, ms. */
  brokerWaitMs?: number
}

export interface AttachResult {
  runId: string
  exitCode: number
  detached: boolean
}

export async function attachRun(o: AttachOptions, io: RunIO): Promise<AttachResult> {
  const nc = await connectBroker(o.broker, { name: 'loads-runner --attach' })
  try {
    return await follow(nc, o, io)
  } finally {
    // Bounded: a broker that stopped answering must not keep the runner from returning.
    let timer: NodeJS.Timeout | undefined
    await Promise.race([nc.drain().catch(() => {}), new Promise((r) => (timer = setTimeout(r, 5000)))])
    clearTimeout(timer)
    if (!nc.isClosed()) await nc.close().catch(() => {})
  }
}

async function follow(nc: NatsConnection, o: AttachOptions, io: RunIO): Promise<AttachResult> {
  const { js, jsm } = await openJetStream(nc)
  const found = await findRun(jsm, o.runId)
  if ('error' in found) throw new ClusterError(found.error, 'list the runs with --ping-broker', 'LOADS_ERR_RUN_NOT_FOUND')
  const meta = found.meta
  if (!meta) throw new ClusterError(`run ${found.runId} is still being submitted (it has no description yet)`, 'try again in a moment', 'LOADS_ERR_RUN_NOT_FOUND')

  const tests = meta.config.tests
  const runs = plannedRuns(meta.plan)
  const info: RunInfo = { runId: meta.runId, address: meta.address, tests, plan: meta.plan, mode: 'cluster', workers: 0, startMs: meta.startMs }
  const duration = meta.plan.steps.every((s) => s.durationMs !== undefined) ? meta.plan.steps.reduce((t, s) => t + s.durationMs!, 0) : undefined
  const aggregator = new Aggregator({ startMs: meta.startMs })
  const reporters: Reporter[] = [
    new ConsoleReporter({
      stream: io.stdout,
      isTTY: io.isTTY,
      columns: io.columns,
      quiet: o.quiet,
      plannedRuns: runs === undefined ? undefined : runs * tests.length * meta.agents.length,
      plannedDurationMs: duration,
      agents: meta.agents.length,
    }),
    ...(io.reporters ?? []),
  ]
  io.stdout.write(`attached to run ${meta.runId}: ${meta.address} on ${meta.agents.length} agents, started ${new Date(meta.startMs).toISOString()}\n`)
  for (const r of reporters) await r.onRunStart?.(info)

  const watch = new ConnectionWatch(nc)
  const watcher = new RunWatcher({
    nc,
    js,
    jsm,
    watch,
    runId: meta.runId,
    onUndelivered: (id, u) => aggregator.undelivered(id, u),
    onSnapshot: (s) => {
      if (!aggregator.add(s)) return
      for (const r of reporters) r.onSnapshot?.(s, aggregator)
    },
    onStep: (i) => {
      for (const r of reporters) r.onStep?.(i)
    },
    onNotice: o.notice,
    // Changes made by anyone (the runner's page, its API, loads ctl, other sessions), as stored.
    onChange: (event, live) => {
      changes.push(event)
      paused = live.paused
      for (const r of reporters) r.onChange?.(event)
    },
    ...(o.brokerWaitMs !== undefined ? { brokerWaitMs: o.brokerWaitMs } : {}),
  })
  const changes: ChangeEvent[] = []
  let paused = false
  let over = false
  // This session's own dashboard (its page, its API) changes the run through whoever controls it;
  // the change comes back through the stream like anyone's.
  io.control?.bind({
    apply: (change) => {
      if (over) throw new ControlError('the run is over')
      return requestChange(nc, js, jsm, meta.runId, change, 'attach')
    },
    paused: () => paused,
  })
  watcher.expect(meta.agents)
  await watcher.start()
  await watcher.caughtUp()
  watcher.judgeSilence()

  const control = new RunControl(nc, meta.runId)
  let stopped = false
  const onStop = (): void => {
    if (stopped) return
    stopped = true
    // Recorded as a change by this session where the run is still going; the agents are told at once either way.
    requestChange(nc, js, jsm, meta.runId, { action: 'stop' }, 'attach').catch(() => {})
    control.stop()
    // Repeat the stop every second until the agents are done (one of them may be reconnecting).
    control.start()
  }
  if (o.stopSignal?.aborted) onStop()
  o.stopSignal?.addEventListener('abort', onStop, { once: true })
  const detached = new Promise<'detached'>((resolve) => {
    if (o.detachSignal?.aborted) resolve('detached')
    o.detachSignal?.addEventListener('abort', () => resolve('detached'), { once: true })
  })
  try {
    const how = await Promise.race([watcher.done().then(() => 'done' as const), detached])
    if (how === 'detached') return { runId: meta.runId, exitCode: 0, detached: true }
  } finally {
    over = true
    io.control?.bind(undefined)
    o.stopSignal?.removeEventListener('abort', onStop)
    control.close()
    watch.close()
    await watcher.close()
  }
  // Every agent of the run among the result's sources, those whose results stop short saying why.
  for (const { agentId, ...unfinished } of watcher.board.unfinished()) aggregator.unfinished(agentId, unfinished)

  const summary = aggregator.summary()
  const thresholds = io.thresholds?.judge(summary, aggregator.encodedHistograms()) ?? []
  const interrupted = stopped || watcher.end?.interrupted === true || watcher.board.interrupted()
  const exitCode = finalExitCode({
    interrupted,
    engineCode: isPartial(watcher) ? ExitCode.PARTIAL : undefined,
    // Runs cut by a scale-down are not failures of their own (as the runner judges them).
    testFailures: summary.tests.errors + summary.tests.failures - (changes.length > 0 ? interruptedRuns(summary) : 0),
    thresholdsFailed: thresholds.some((t) => !t.pass),
  })
  const notes = [...watcherNotes(watcher, meta.runId), ...formatThresholdLines(thresholds, undefined)]
  const outcome: RunOutcome = { summary, exitCode, interrupted, notes, thresholds, ...(changes.length > 0 ? { changes } : {}) }
  for (const r of reporters) await r.onRunEnd?.(outcome, aggregator)
  return { runId: meta.runId, exitCode, detached: false }
}
