/**
 * The cluster as an Engine: the coordinator of a local run (runTests) drives N agents over NATS
 * instead of worker threads. Same snapshots, same merge, same outputs.
 */
import path from 'node:path'
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream'
import type { NatsConnection } from '@nats-io/transport-node'
import type { Engine, EngineContext, EngineFactory } from '../runner/engine.js'
import { ExitCode } from '../runner/exit-codes.js'
import { ConnectionWatch } from './connection-watch.js'
import { BrokerError, connectBroker, type BrokerOptions } from './nats-connection.js'
import { encode, subjects, type RunEnd } from './protocol.js'
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
      watch.onChange((e) => options.notice(e === 'disconnect' ? 'lost the broker; reconnecting (the agents go on)' : `reconnected to ${nc.getServer()}`))
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
        onSnapshot: (s) => ctx.onSnapshot(s),
        onStep: (i) => ctx.onStep(i),
        onNotice: options.notice,
      })
      this.#watcher = watcher
      watcher.expect(this.#submitted.accepted)
      await watcher.start()
      watcher.judgeSilence()
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
    const end: RunEnd = { type: 'run.end', runId: this.ctx.runId, agentId: null, interrupted: this.#stopped, partial: watcher.board.partial(), endMs: Date.now() }
    try {
      await jetstream(this.#nc!).publish(subjects.runEnd(this.ctx.runId), encode(end), { msgID: 'end', timeout: 5000 })
    } catch {
      // The end record only saves an attach some inference; the run's data is all stored.
    }
    await this.#close()
  }

  stop(): void {
    if (this.#stopped) return
    this.#stopped = true
    this.#control?.stop()
  }

  notes(): string[] {
    return this.#watcher?.board.lines() ?? []
  }

  exitCode(): number | undefined {
    return this.#watcher?.board.partial() ? ExitCode.PARTIAL : undefined
  }

  async #close(): Promise<void> {
    this.#control?.close()
    await this.#watcher?.close()
    this.#submitted?.bundleServer?.unsubscribe()
    await this.#nc?.flush().catch(() => {})
    await this.#nc?.drain().catch(() => {})
  }
}

/** `file.ts: Class.method, …` — what the run is, in `--ping-broker` and `--attach`. */
export function describeTest(ctx: Pick<EngineContext, 'prepared' | 'config'>): string {
  const tests = ctx.config.tests.map((t) => `${t.className}.${t.methodName}`).join(', ')
  return `${path.basename(ctx.prepared.bundle.entry)}: ${tests}`
}
