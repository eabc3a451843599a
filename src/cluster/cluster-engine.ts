/**
 * The cluster as an Engine: the coordinator of a local run (runTests) drives N agents over NATS
 * instead of worker threads. Same snapshots, same merge, same outputs.
 */
import path from 'node:path'
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream'
import type { NatsConnection, Subscription } from '@nats-io/transport-node'
import type { ChangeEvent, EngineChange } from '../load/control.js'
import type { Engine, EngineContext, EngineFactory } from '../runner/engine.js'
import { ExitCode } from '../runner/exit-codes.js'
import { ConnectionWatch } from './connection-watch.js'
import { natsClient } from './nats-client.js'
import { BrokerError, connectBroker, type BrokerOptions } from './nats-connection.js'
import { Outbox } from './outbox.js'
import { encode, subjects, type RunChangeRecord, type RunEnd } from './protocol.js'
import { serveControl } from './remote-control.js'
import { RunControl } from './run-control.js'
import { RunWatcher } from './run-watcher.js'
import { submitRun, type Submitted } from './submit-run.js'

export interface ClusterRunOptions {
  broker: BrokerOptions
  /** Agents to run on; each runs the whole plan. */
  agents: number
  /** Worker threads per agent when the user said (`-w`); else each agent decides. */
  workers: number | null
  /** Aborting it detaches: the agents go on, `run()` rejects with RunDetached. */
  detachSignal?: AbortSignal
  /** Lines for the user while the run goes (an agent lost, refused …). */
  notice(line: string): void
  /** Copies of the run's stream on a NATS cluster. */
  replicas?: number
  /** How long to wait for a broker that stopped answering before giving up on the run, ms. */
  brokerWaitMs?: number
}

/** The runner let go of a run that goes on (Ctrl-C → detach). Not an error: follow it with --attach. */
export class RunDetached extends Error {
  constructor(readonly runId: string) {
    super(`detached from run ${runId}`)
    this.name = 'RunDetached'
  }
}

/** An EngineFactory for `--agents N`: connects and sends the run before the first snapshot. */
export function clusterEngine(options: ClusterRunOptions): EngineFactory {
  return async (ctx) => {
    const engine = new ClusterEngine(ctx, options)
    await engine.submit()
    return engine
  }
}

/** Opens the JetStream API, or says that the broker has none. */
export async function openJetStream(nc: NatsConnection): Promise<{ js: JetStreamClient; jsm: JetStreamManager }> {
  try {
    const { jetstream, jetstreamManager } = natsClient().jetstream
    const jsm = await jetstreamManager(nc)
    return { js: jetstream(nc), jsm }
  } catch (err) {
    throw new BrokerError(
      `the broker at ${nc.getServer()} has no JetStream (${(err as Error).message})`,
      'run results are stored in JetStream: start nats-server with -js (loads-cluster does)',
      'LOADS_ERR_NO_JETSTREAM',
    )
  }
}

class ClusterEngine implements Engine {
  #nc: NatsConnection | undefined
  #watcher: RunWatcher | undefined
  #submitted: Submitted | undefined
  #control: RunControl | undefined
  #stopped = false
  #watch: ConnectionWatch | undefined
  /** Stores the run's live changes in its stream (docs/live-control.md). */
  #changes: Outbox | undefined
  #changeCount = 0
  /** The live seq of the latest pause or resume sent, and the latest each agent said its workers hold (snapshots' pauseSeq). */
  #pauseSeq = 0
  readonly #agentPauseSeq = new Map<string, number>()
  /** Answers `loads ctl --run` and `--attach` sessions. */
  #ctl: Subscription | undefined

  constructor(
    private readonly ctx: EngineContext,
    private readonly options: ClusterRunOptions,
  ) {}

  async submit(): Promise<void> {
    const { ctx, options } = this
    const nc = await connectBroker(options.broker, { name: `loads-runner ${ctx.runId}` })
    this.#nc = nc
    try {
      const { js, jsm } = await openJetStream(nc)
      const watch = new ConnectionWatch(nc)
      watch.onChange((e) => {
        // A stall (no PONG, socket open) is told by the watcher once it lasts.
        if (e === 'disconnect') options.notice('lost the broker; reconnecting (the agents go on)')
        else if (e === 'reconnect') options.notice(`reconnected to ${nc.getServer()}`)
      })
      this.#watch = watch
      // Heartbeats start before any agent accepts: an agent stops a run whose runner it never hears.
      this.#control = new RunControl(nc, ctx.runId)
      this.#control.start()
      this.#submitted = await submitRun({
        nc,
        js,
        jsm,
        runId: ctx.runId,
        address: describeTest(ctx),
        config: ctx.config,
        plan: ctx.plan,
        bundle: ctx.prepared.bundle,
        workers: options.workers,
        agents: options.agents,
        supervised: true,
        notice: options.notice,
        brokerUrl: options.broker.servers.join(','),
        ...(options.replicas !== undefined ? { replicas: options.replicas } : {}),
      })
      for (const r of this.#submitted.refused) options.notice(`${r.message}${r.detail ? `\n${r.detail}` : ''}`)
      if (this.#submitted.refused.length > 0) {
        options.notice(`running on ${this.#submitted.accepted.length} of ${options.agents} agents: the results will be partial`)
      }
      const watcher = new RunWatcher({
        nc,
        js,
        jsm,
        watch,
        runId: ctx.runId,
        onSnapshot: (s) => {
          if (s.pauseSeq !== undefined) this.#agentPauseSeq.set(s.source, Math.max(this.#agentPauseSeq.get(s.source) ?? 0, s.pauseSeq))
          ctx.onSnapshot(s)
        },
        onUndelivered: (id, u) => ctx.onUndelivered?.(id, u),
        onStep: (i) => ctx.onStep(i),
        onNotice: options.notice,
        ...(options.brokerWaitMs !== undefined ? { brokerWaitMs: options.brokerWaitMs } : {}),
      })
      this.#watcher = watcher
      watcher.expect(this.#submitted.accepted)
      await watcher.start()
      watcher.judgeSilence()
      this.#changes = new Outbox(js)
      const apply = ctx.applyChange
      if (apply !== undefined) this.#ctl = serveControl(nc, ctx.runId, apply)
    } catch (err) {
      await this.#close()
      throw err
    }
  }

  async run(): Promise<void> {
    const watcher = this.#watcher!
    const detach = this.options.detachSignal
    const detached = new Promise<'detached'>((resolve) => {
      if (detach?.aborted) resolve('detached')
      detach?.addEventListener('abort', () => resolve('detached'), { once: true })
    })
    const how = await Promise.race([watcher.done().then(() => 'done' as const), detached])
    if (how === 'detached') {
      this.#control?.detach()
      await this.#close()
      throw new RunDetached(this.ctx.runId)
    }
    if (watcher.gaveUpOnBrokerMs !== undefined) {
      await this.#close()
      this.#reportUnfinished(watcher)
      return
    }
    const end: RunEnd = { type: 'run.end', runId: this.ctx.runId, agentId: null, interrupted: this.#stopped, partial: watcher.board.partial(), endMs: Date.now() }
    try {
      await natsClient().jetstream.jetstream(this.#nc!).publish(subjects.runEnd(this.ctx.runId), encode(end), { msgID: 'end', timeout: 5000 })
    } catch {
      // The end record only saves an attach some inference; the run's data is all stored.
    }
    await this.#close()
    this.#reportUnfinished(watcher)
  }

  /** Once nothing more is read: every agent whose results stop short, for the sources of the result. */
  #reportUnfinished(watcher: RunWatcher): void {
    for (const { agentId, ...unfinished } of watcher.board.unfinished()) this.ctx.onUnfinished?.(agentId, unfinished)
  }

  /** Live control: to every agent through the run's control channel; each takes its share. */
  control(change: EngineChange): void {
    if (this.#stopped) return
    this.#control?.change(change)
    if (('pause' in change || 'resume' in change) && this.#control !== undefined) this.#pauseSeq = this.#control.live.seq
  }

  /**
   * Agents still running whose workers have not all said the latest pause or resume is in force.
   * An agent says so in its snapshots, each interval: "pausing" lasts a second or two at least.
   */
  pausePending(): number {
    const board = this.#watcher?.board
    if (board === undefined || this.#pauseSeq === 0) return 0
    let pending = 0
    for (const id of board.agentIds) {
      if (board.isTerminal(id) || board.row(id)?.final === true) continue
      if ((this.#agentPauseSeq.get(id) ?? 0) < this.#pauseSeq) pending++
    }
    return pending
  }

  /** Into the run's stream, with the live state the agents were sent: what `--attach` and `loads ctl status --run` read. */
  recordChange(event: ChangeEvent): void {
    const index = ++this.#changeCount
    const record: RunChangeRecord = { type: 'run.change', runId: this.ctx.runId, agentId: null, index, event, live: this.#control?.live ?? { seq: 0, paused: false } }
    this.#changes?.push(subjects.runChange(this.ctx.runId), record, `change:${index}`)
  }

  stop(): void {
    if (this.#stopped) return
    this.#stopped = true
    this.#control?.stop()
  }

  notes(): string[] {
    const w = this.#watcher
    if (w === undefined) return []
    return watcherNotes(w, this.ctx.runId)
  }

  exitCode(): number | undefined {
    const w = this.#watcher
    return w && isPartial(w) ? ExitCode.PARTIAL : undefined
  }

  /** Agents stopped on request (`--purge-broker`, a stop): interrupted, as `--attach` says too. */
  interrupted(): boolean {
    return this.#watcher?.board.interrupted() ?? false
  }

  /** Bounded: a broker that stopped answering must not keep the runner from its summary. */
  async #close(): Promise<void> {
    this.#ctl?.unsubscribe()
    this.#ctl = undefined
    this.#control?.close()
    await this.#changes?.flushed(5000)
    this.#watch?.close()
    await this.#watcher?.close()
    this.#submitted?.bundleServer?.unsubscribe()
    const nc = this.#nc
    if (!nc) return
    await withinMs(nc.flush().catch(() => {}), 5000)
    await withinMs(nc.drain().catch(() => {}), 5000)
    if (!nc.isClosed()) await nc.close().catch(() => {})
  }
}

/**
 * The lines under a cluster run's summary (the runner's and `--attach`'s): each agent's state,
 * then whose results stop short and how much of them is counted, then a broker given up on.
 */
export function watcherNotes(w: RunWatcher, runId: string): string[] {
  const lines = [...w.board.lines(), ...w.board.tailLines(runId)]
  if (w.gaveUpOnBrokerMs !== undefined) {
    lines.push(`The broker did not answer for ${(w.gaveUpOnBrokerMs / 1000).toFixed(0)} s: these results stop where it went silent. Once it is back: loads-runner --attach ${runId}`)
  }
  return lines
}

/** Some results are missing: an agent lost or cut short, a broker given up on, the stream not read to its end. */
export function isPartial(w: RunWatcher): boolean {
  return w.board.partial() || w.gaveUpOnBrokerMs !== undefined || w.unread
}

/** Waits for `p`, at most `ms`. */
async function withinMs(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  await Promise.race([p, new Promise((resolve) => (timer = setTimeout(resolve, ms)))])
  clearTimeout(timer)
}

/** `file.ts: Class.method, …` — what the run is, in `--ping-broker` and `--attach`. */
export function describeTest(ctx: Pick<EngineContext, 'prepared' | 'config'>): string {
  const tests = ctx.config.tests.map((t) => `${t.className}.${t.methodName}`).join(', ')
  return `${path.basename(ctx.prepared.bundle.entry)}: ${tests}`
}
