/**
 * A cluster agent (`loads-agent`): registers with the broker, heartbeats, waits for runs. A run
 * arrives as a bundle; the agent runs the whole plan on its own worker threads (the LocalEngine of
 * a local run) and stores every snapshot in the run's stream. It stops the load on its own when
 * it stops hearing its runner, or loses the broker for too long: a load test must never keep
 * hitting a service after its controller is gone.
 */
import { readdirSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { JetStreamClient } from '@nats-io/jetstream'
import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node'
import { writeBundle } from '../case/bundle.js'
import { LoadsError } from '../errors.js'
import { LocalEngine, MAX_WORKERS_PER_CORE, TestLoadError } from '../runner/local-engine.js'
import { loadChecked } from '../runner/prepare-test.js'
import { shareUsers } from '../load/plan.js'
import { SnapshotMerger } from '../stats/snapshot-merge.js'
import type { Snapshot } from '../stats/types.js'
import { everyAligned, type AlignedTimer } from '../util/aligned-timer.js'
import { namedTempFolder, privateTempRoot, removeTempFolder } from '../util/private-temp.js'
import { receiveBundle } from './bundle-transfer.js'
import { ConnectionWatch } from './connection-watch.js'
import { natsClient } from './nats-client.js'
import { checkAgentSecurity, connectBroker, type BrokerOptions } from './nats-connection.js'
import { Outbox } from './outbox.js'
import { addCarried, carried, describeUndelivered, emptied, partName, splitToFit, spreadNamed, trimErrors } from './snapshot-split.js'
import { OTHER_ERRORS } from '../stats/error-groups.js'
import { peakUsers } from '../load/scenarios.js'
import {
  BROKER_LOSS_LIMIT_MS,
  decode,
  encode,
  HEARTBEAT_MS,
  LOADS_VERSION,
  safeToken,
  SILENCE_LIMIT_MS,
  subjects,
  type AgentEvent,
  type AgentHeartbeat,
  type AgentInfo,
  type AgentState,
  type ControlMessage,
  type FinishReason,
  type LiveState,
  type PingReply,
  type PurgeReply,
  type RunReply,
  type RunRequest,
  type SnapshotMessage,
  type Undelivered,
} from './protocol.js'

/** How long the workers' snapshots of an interval wait for a late worker's before leaving. */
const SNAPSHOT_WAIT_MS = 1000
/** Room left under the broker's max_payload for a stored message's headers (its de-duplication id). */
const MESSAGE_HEADROOM_BYTES = 1024

/** The largest snapshot message the broker takes from us, bytes. */
function maxMessageBytes(nc: NatsConnection): number {
  return (nc.info?.max_payload ?? 1024 * 1024) - MESSAGE_HEADROOM_BYTES
}

export interface AgentOptions {
  broker: BrokerOptions
  /** Worker threads per run; default one per core (never more than a step has users). */
  workers?: number
  /** The version announced and checked; defaults to this package's (tests fake another). */
  version?: string
  /** Where bundles are written. */
  dir?: string
  /**
   * The environment its worker threads start from (the CLI's `CliIO.env`, which an in-process
   * caller may set apart from the process's); `process.env` when absent. A run's `-e` /
   * `--env-file` variables go over it.
   */
  workerEnv?: NodeJS.ProcessEnv
  log: (line: string) => void
}

interface CurrentRun {
  request: RunRequest
  engine: LocalEngine | undefined
  supervised: boolean
  lastRunnerMs: number
  stopReason: FinishReason | undefined
  control: Subscription
  /** The last live-control seq applied (docs/live-control.md). */
  liveSeq: number
  scaleSeq: number
  paused: boolean
  /** The live seq whose pause state the engine was handed last, and the last such every worker said was in force. */
  pauseSeq: number
  pauseSeqApplied: number
  events: number
  done: Promise<void>
}

export class Agent {
  readonly id = safeToken(`${os.hostname()}-${process.pid}`)
  readonly version: string
  readonly #startedMs = Date.now()
  #nc: NatsConnection | undefined
  #js: JetStreamClient | undefined
  #watch: ConnectionWatch | undefined
  #outbox: Outbox | undefined
  #state: AgentState = 'idle'
  #run: CurrentRun | undefined
  #timers: NodeJS.Timeout[] = []
  #heartbeats: AlignedTimer | undefined
  #closed = false

  constructor(private readonly options: AgentOptions) {
    this.version = options.version ?? LOADS_VERSION
  }

  /** Connects (waiting for the broker if it is not up yet) and starts answering. */
  async start(): Promise<void> {
    checkAgentSecurity(this.options.broker)
    if (this.options.dir === undefined) removeDeadAgentsFolders()
    this.log(`agent ${this.id}: connecting to ${this.options.broker.servers.join(', ')} (waiting for the broker if it is not up yet)`)
    const nc = await connectBroker(this.options.broker, { name: `loads-agent ${this.id}`, waitForBroker: true })
    this.#nc = nc
    this.#js = natsClient().jetstream.jetstream(nc)
    this.#watch = new ConnectionWatch(nc)
    this.#outbox = new Outbox(this.#js, (line) => this.log(line))
    const says = { disconnect: 'lost the broker; reconnecting', stall: 'the broker does not answer (frozen or stalled); waiting for it', answer: 'the broker answers again' }
    this.#watch.onChange((e) => this.log(e === 'reconnect' ? `reconnected to ${nc.getServer()}` : says[e]))

    nc.subscribe(subjects.ping, { callback: (_e, m) => this.#reply<PingReply>(m, { type: 'agent.info', runId: this.#run?.request.runId ?? null, agentId: this.id, info: this.info() }) })
    nc.subscribe(subjects.purge, {
      callback: (_e, m) => {
        const runId = this.#run?.request.runId ?? null
        this.#reply<PurgeReply>(m, { type: 'purge.reply', runId, agentId: this.id })
        if (runId) this.#stopRun('purged', 'purged by --purge-broker')
      },
    })
    nc.subscribe(subjects.runRequest(this.id), { callback: (_e, m) => void this.#onRunRequest(m) })
    await nc.flush()

    this.#heartbeat()
    // On the wall clock's seconds, as the workers' snapshots: a runner hears its agents together
    // once a second rather than one wake-up per agent spread over the second.
    this.#heartbeats = everyAligned(HEARTBEAT_MS, () => this.#heartbeat())
    this.#timers.push(setInterval(() => this.#supervise(), 250))
    this.log(`agent ${this.id} (Loads ${this.version}, ${this.#workersDefault()} workers) connected to ${nc.getServer()}; waiting for runs`)
  }

  info(): AgentInfo {
    return {
      agentId: this.id,
      host: os.hostname(),
      pid: process.pid,
      version: this.version,
      cores: os.availableParallelism(),
      workers: this.#workersDefault(),
      state: this.#state,
      runId: this.#run?.request.runId ?? null,
      address: this.#run?.request.address ?? null,
      startedMs: this.#startedMs,
    }
  }

  /** Stops a run in progress (its results are stored), then leaves the broker. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    const run = this.#run
    if (run) {
      this.#stopRun('shutdown', 'the agent is shutting down')
      await Promise.race([run.done, new Promise((r) => setTimeout(r, 20_000))])
    }
    for (const t of this.#timers) clearInterval(t)
    this.#heartbeats?.stop()
    this.#watch?.close()
    if (this.options.dir === undefined) removeTempFolder(namedTempFolder(`agent-${this.id}`))
    // The broker may be gone: an agent told to stop must not wait for it for ever.
    await this.#outbox?.flushed(10_000)
    const nc = this.#nc
    if (nc) {
      let timer: NodeJS.Timeout | undefined
      await Promise.race([nc.drain().catch(() => {}), new Promise((r) => (timer = setTimeout(r, 5000)))])
      clearTimeout(timer)
      if (!nc.isClosed()) await nc.close().catch(() => {})
    }
  }

  /** Resolves when the connection is closed for good. */
  async closed(): Promise<void> {
    await this.#nc?.closed()
  }

  private log(line: string): void {
    this.options.log(`${new Date().toISOString()} ${line}`)
  }

  #workersDefault(): number {
    return this.options.workers ?? os.availableParallelism()
  }

  #reply<T>(m: Msg, message: T): void {
    try {
      m.respond(encode(message))
    } catch {
      // The requester is gone or we are disconnected; it will ask again.
    }
  }

  #heartbeat(): void {
    if (!this.#nc || this.#nc.isClosed()) return
    const hb: AgentHeartbeat = { type: 'agent.heartbeat', runId: this.#run?.request.runId ?? null, agentId: this.id, info: this.info() }
    try {
      this.#nc.publish(subjects.heartbeat(this.id), encode(hb))
    } catch {
      // Disconnected: the next one goes out after the reconnect.
    }
  }

  #supervise(): void {
    const run = this.#run
    if (!run || run.stopReason || !this.#watch) return
    const outage = this.#watch.outageMs()
    if (outage > BROKER_LOSS_LIMIT_MS) {
      this.#stopRun('broker-lost', `the broker has been unreachable (or has not answered) for ${(outage / 1000).toFixed(0)} s: stopping the load`)
      return
    }
    if (!run.supervised) return
    const silence = this.#watch.silenceMs(run.lastRunnerMs)
    if (silence > SILENCE_LIMIT_MS) {
      this.#stopRun('runner-lost', `no heartbeat from the runner of ${run.request.runId} for ${(silence / 1000).toFixed(1)} s: stopping the load`)
    }
  }

  async #onRunRequest(m: Msg): Promise<void> {
    const req = decode<RunRequest>(m.data)
    if (!req || req.type !== 'run.request') return
    const refuse = (code: string, message: string, detail = ''): void => {
      this.log(`refused run ${req.runId}: ${message}`)
      this.#reply<RunReply>(m, { type: 'run.reply', runId: req.runId, agentId: this.id, ok: false, code, message, detail })
    }
    if (req.version !== this.version) {
      refuse('LOADS_ERR_VERSION', `agent ${this.id} runs Loads ${this.version}, the runner ${req.version}: install the same version on both`)
      return
    }
    if (this.#state !== 'idle' || this.#closed) {
      refuse('LOADS_ERR_AGENT_BUSY', `agent ${this.id} is busy with run ${this.#run?.request.runId ?? '(closing)'}`)
      return
    }
    this.#state = 'running'
    let bundleFile: string
    try {
      const code = await receiveBundle(this.#nc!, req.runId, this.id, req.bundle)
      // Kept while the agent lives (`--dir`, or its folder in this user's private temp space); each
      // run's bundle is removed when the run ends, the folder when the agent stops.
      bundleFile = writeBundle({ code, hash: req.bundle.hash }, this.options.dir ?? namedTempFolder(`agent-${this.id}`))
      await loadChecked(bundleFile, req.bundle.entry, path.dirname(req.bundle.entry))
    } catch (err) {
      this.#state = 'idle'
      const e = err as Error & { detail?: string }
      refuse(err instanceof LoadsError ? err.code : 'LOADS_ERR_TEST_LOAD', `agent ${this.id} could not load the test: ${e.message}`, e.detail ?? '')
      return
    }
    this.#begin(req, bundleFile)
    this.#reply<RunReply>(m, { type: 'run.reply', runId: req.runId, agentId: this.id, ok: true })
  }

  #begin(req: RunRequest, bundleFile: string): void {
    const nc = this.#nc!
    const outbox = this.#outbox!
    let resolveDone!: () => void
    const run: CurrentRun = {
      request: req,
      engine: undefined,
      supervised: req.supervised,
      lastRunnerMs: Date.now(),
      stopReason: undefined,
      control: nc.subscribe(subjects.control(req.runId), { callback: (_e, msg) => this.#onControl(run, msg) }),
      liveSeq: 0,
      scaleSeq: 0,
      paused: false,
      pauseSeq: 0,
      pauseSeqApplied: 0,
      events: 0,
      done: new Promise<void>((r) => (resolveDone = r)),
    }
    this.#run = run
    const maxUsers = peakUsers(req.plan)
    const workers = Math.max(1, Math.min(req.workers ?? this.#workersDefault(), maxUsers, MAX_WORKERS_PER_CORE * os.availableParallelism()))
    const event = (e: AgentEvent): void => outbox.push(subjects.runEvent(req.runId, this.id), e, `event:${this.id}:${run.events++}`)
    // The workers' snapshots leave merged, one per interval under the agent's id: the runner
    // merges one snapshot per agent per second, however many workers each runs.
    const merger = new SnapshotMerger(this.id, workers)
    // What this run counted but could not deliver: parts too big even alone, here; the outbox's drops, from its totals.
    const outboxLostBefore = outbox.undelivered
    const tooBig: Undelivered = { messages: 0, hits: 0, testsRun: 0 }
    let pendingSinceMs = 0
    const send = (final: boolean): void => {
      const snapshot = merger.take(final)
      if (snapshot === undefined) return
      // Where this agent is with the latest pause or resume: the runner's page says "Pausing…" until every agent's workers hold.
      if (run.engine?.pausePending() === 0) run.pauseSeqApplied = run.pauseSeq
      if (run.pauseSeqApplied > 0) snapshot.pauseSeq = run.pauseSeqApplied
      // The broker refuses a message over its max_payload for good: a snapshot that big (thousands
      // of URL names in a second) goes in parts, each under a seq of its own.
      const limit = maxMessageBytes(nc)
      const encoded = new Map<Snapshot, Uint8Array>()
      const encodeOne = (s: Snapshot): Uint8Array => {
        let data = encoded.get(s)
        if (data === undefined) encoded.set(s, (data = encode({ type: 'run.snapshot', runId: req.runId, agentId: this.id, snapshot: s } satisfies SnapshotMessage)))
        return data
      }
      const parts = splitToFit(snapshot, (s) => encodeOne(s).length <= limit, () => merger.nextSeq())
      if (parts.length > 1) this.log(`run ${req.runId}: a snapshot of ${snapshot.endpoints.length} URL names is over the broker's max_payload (${limit + MESSAGE_HEADROOM_BYTES} bytes): sent in ${parts.length} parts`)
      const fits = (s: Snapshot): boolean => encodeOne(s).length <= limit
      const deliver = (part: Snapshot, spreadable: boolean): void => {
        const subject = subjects.runSnapshot(req.runId, this.id)
        const msgId = `snapshot:${part.source}:${part.seq}`
        const data = encodeOne(part)
        if (data.length <= limit) {
          outbox.pushEncoded(subject, data, msgId, carried(part))
          return
        }
        // Thousands of check, counter or group names: in parts of their own, every count kept.
        const spread = spreadable ? spreadNamed(part, fits, () => merger.nextSeq()) : undefined
        if (spread !== undefined) {
          this.log(`run ${req.runId}: a snapshot's ${Object.keys(part.checks ?? {}).length} checks, ${Object.keys(part.counters).length} counters and ${part.groups?.length ?? 0} groups are over the broker's max_payload (${limit + MESSAGE_HEADROOM_BYTES} bytes): sent in ${spread.length} parts`)
          for (const p of spread) deliver(p, false)
          return
        }
        // Mostly error groups (distinct messages, long stacks): the rarest folded, every count kept.
        const trimmed = trimErrors(part, fits)
        if (trimmed !== undefined) {
          this.log(`run ${req.runId}: a snapshot's ${part.errors.length} error groups are over the broker's max_payload (${limit + MESSAGE_HEADROOM_BYTES} bytes): ${trimmed.errors.filter((g) => g.message !== OTHER_ERRORS).length} kept whole, the rest counted as (other errors)`)
          outbox.pushEncoded(subject, encodeOne(trimmed), msgId, carried(trimmed))
          return
        }
        // Too big even alone: refused for ever, so not sent. Emptied, it keeps the source's seqs
        // whole and its final flag; what it carried is counted, and the `finished` event says so.
        const lost = carried(part)
        tooBig.messages++
        addCarried(tooBig, lost)
        this.log(`run ${req.runId}: a snapshot part of ${data.length} bytes (${partName(part)}) is over the broker's max_payload (${limit + MESSAGE_HEADROOM_BYTES} bytes) even alone: not delivered, with ${describeUndelivered(lost)}`)
        outbox.pushEncoded(subject, encodeOne(emptied(part)), msgId)
      }
      for (const part of parts) deliver(part, true)
    }
    // A worker that falls behind does not hold the others' snapshots back for long.
    const flusher = setInterval(() => {
      if (merger.pending > 0 && Date.now() - pendingSinceMs >= SNAPSHOT_WAIT_MS) send(false)
    }, SNAPSHOT_WAIT_MS / 4)
    run.engine = new LocalEngine({
      bundleFile,
      config: req.config,
      plan: req.plan,
      workers,
      ...(this.options.workerEnv !== undefined ? { workerEnv: this.options.workerEnv } : {}),
      sourcePrefix: `${this.id}/`,
      onSnapshot: (snapshot) => {
        if (merger.pending === 0) pendingSinceMs = Date.now()
        merger.add(snapshot)
        if (merger.allFinal) send(true)
        else if (merger.ready) send(false)
      },
      onStep: (step) => event({ type: 'run.event', runId: req.runId, agentId: this.id, event: 'step', atMs: Date.now(), step }),
    })
    this.log(`run ${req.runId}: ${req.address}, ${workers} workers${req.supervised ? '' : ' (detached)'}`)
    event({ type: 'run.event', runId: req.runId, agentId: this.id, event: 'started', atMs: Date.now(), workers })
    void run.engine
      .run()
      .finally(() => {
        // After every worker's final snapshot (or the engine gave up on them): the agent's final.
        clearInterval(flusher)
        send(true)
      })
      .then(
        async () => {
          // A worker that crashed, was stuck or ran out of memory here: the runner's summary says so.
          const notes = run.engine?.notes() ?? []
          for (const note of notes) this.log(`run ${req.runId}: ${note}`)
          // Every snapshot stored or dropped first, so the event can say what did not arrive.
          await outbox.flushed()
          const now = outbox.undelivered
          const undelivered: Undelivered = { ...tooBig }
          undelivered.messages += now.messages - outboxLostBefore.messages
          addCarried(undelivered, now)
          addCarried(undelivered, outboxLostBefore, -1)
          if (undelivered.messages > 0) this.log(`run ${req.runId}: ${describeUndelivered(undelivered)} in ${undelivered.messages} snapshot parts were not delivered`)
          event({ type: 'run.event', runId: req.runId, agentId: this.id, event: 'finished', atMs: Date.now(), reason: run.stopReason ?? 'done', ...(notes.length > 0 ? { notes } : {}), ...(undelivered.messages > 0 ? { undelivered } : {}) })
        },
        (err: unknown) => {
          const e = err instanceof Error ? err : new Error(String(err))
          const detail = err instanceof TestLoadError ? err.detail : (e.stack ?? '')
          this.log(`run ${req.runId} failed: ${e.message}`)
          event({ type: 'run.event', runId: req.runId, agentId: this.id, event: 'failed', atMs: Date.now(), message: e.message, detail })
        },
      )
      .then(() => outbox.flushed())
      .finally(() => {
        run.control.unsubscribe()
        this.#run = undefined
        this.#state = 'idle'
        rmSync(bundleFile, { force: true })
        this.log(`run ${req.runId} ${run.stopReason ?? 'done'}; idle`)
        this.#heartbeat()
        resolveDone()
      })
  }

  #onControl(run: CurrentRun, msg: Msg): void {
    const control = decode<ControlMessage>(msg.data)
    if (!control || control.type !== 'control' || control.runId !== run.request.runId) return
    run.lastRunnerMs = Date.now()
    if (control.live !== undefined) this.#applyLive(run, control.live)
    if (control.action === 'stop') this.#stopRun('stopped', 'stopped by the runner')
    if (control.action === 'detach') {
      run.supervised = false
      this.log(`run ${run.request.runId}: the runner detached; going on without it`)
    }
  }

  /**
   * Live changes: this agent's share of the run's users (split over the agents by slot as a
   * step's users are over workers), its part of the rate's schedule (every A-th arrival from its
   * slot), pause and resume.
   */
  #applyLive(run: CurrentRun, live: LiveState): void {
    const engine = run.engine
    if (engine === undefined || live.seq <= run.liveSeq) return
    run.liveSeq = live.seq
    const shard = run.request.config.shard ?? { index: 0, count: 1 }
    const scale = live.scale
    if (scale !== undefined && scale.seq > run.scaleSeq) {
      run.scaleSeq = scale.seq
      const share = 'users' in scale ? shareUsers(scale.users, shard.count)[shard.index]! : undefined
      if (share !== undefined) engine.control({ users: share })
      else if ('rate' in scale) engine.control({ rate: scale.rate, offset: shard.index, stride: shard.count })
      this.log(`run ${run.request.runId}: scaled to ${'users' in scale ? `${scale.users} users in all, ${share} here` : `${scale.rate} runs/s in all, every ${shard.count} arrival from ${shard.index} here`}`)
    }
    if (live.paused !== run.paused) {
      run.paused = live.paused
      engine.control(live.paused ? { pause: true } : { resume: true })
      this.log(`run ${run.request.runId}: ${live.paused ? 'paused' : 'resumed'}`)
    }
    // The engine has the pause state of this seq (a pause and resume both missed while
    // reconnecting leave it as it was, which is what the runner asks).
    run.pauseSeq = live.seq
  }

  #stopRun(reason: FinishReason, why: string): void {
    const run = this.#run
    if (!run || run.stopReason) return
    run.stopReason = reason
    this.#state = 'stopping'
    this.log(`run ${run.request.runId}: ${why}`)
    run.engine?.stop()
  }
}

/**
 * The folders of this host's agents that died without cleaning up (SIGKILL, a crash):
 * `agent-<host>-<pid>` whose pid is gone. Best effort: never throws.
 */
function removeDeadAgentsFolders(): void {
  try {
    const root = privateTempRoot()
    const prefix = `agent-${safeToken(os.hostname())}-`
    for (const name of readdirSync(root)) {
      if (!name.startsWith(prefix)) continue
      const pid = Number(name.slice(prefix.length))
      if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid || processExists(pid)) continue
      rmSync(path.join(root, name), { recursive: true, force: true })
    }
  } catch {
    // Another user's temp space, a race with another agent: not ours to insist on.
  }
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}
