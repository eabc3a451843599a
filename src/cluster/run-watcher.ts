import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream'
import type { NatsConnection, Subscription } from '@nats-io/transport-node'
import type { ChangeEvent } from '../load/control.js'
import type { Snapshot } from '../stats/types.js'
import { AgentBoard } from './agent-board.js'
import type { ConnectionWatch } from './connection-watch.js'
import { Outbox } from './outbox.js'
import { AGENT_WAIT_MS, decode, encode, SILENCE_LIMIT_MS, subjects, type AgentEvent, type AgentHeartbeat, type LiveState, type RunEnd, type RunMeta, type Undelivered } from './protocol.js'
import { RunReader } from './run-stream.js'
import { describeUndelivered } from './snapshot-split.js'

export interface RunWatcherOptions {
  nc: NatsConnection
  js: JetStreamClient
  jsm: JetStreamManager
  watch: ConnectionWatch
  runId: string
  onSnapshot(snapshot: Snapshot): void
  /** The first time any agent starts step `index`. */
  onStep(index: number): void
  /** An agent finished saying what it counted but could not deliver (its snapshots' source is its id). */
  onUndelivered?(agentId: string, undelivered: Undelivered): void
  /** A line for the user now (an agent lost, failed …). */
  onNotice(line: string): void
  /** A live change stored in the run's stream (docs/live-control.md), once each, in order. */
  onChange?(event: ChangeEvent, live: LiveState): void
  /**
   * How long to wait for a broker that stopped answering (down, or frozen with its sockets
   * open) before giving up on the run, ms; default: for ever. The agents stop on their own
   * after `BROKER_LOSS_LIMIT_MS` without it, and what they stored stays for `--attach`.
   */
  brokerWaitMs?: number
  /** How long to wait for a silent agent whose connection is still open, ms; default `AGENT_WAIT_MS`. */
  agentWaitMs?: number
  now?: () => number
}

/** A broker silent this long is worth a line to the user (shorter stalls happen under load), ms. */
const BROKER_NOTICE_MS = 5000
/** How long the broker is given to say that a silent agent's connection is closed, ms. */
const PROBE_TIMEOUT_MS = 1000

/**
 * Follows a run through its stream — live, or replayed by `--attach` — and through the agents'
 * heartbeats: merges every stored snapshot once, keeps the per-agent board, notices an agent
 * that went silent (and stores that it was lost), and says when every agent is done.
 */
export class RunWatcher {
  readonly board: AgentBoard
  meta: RunMeta | undefined
  end: RunEnd | undefined
  readonly #reader: RunReader
  readonly #outbox: Outbox
  readonly #now: () => number
  #heartbeats: Subscription | undefined
  #timer: NodeJS.Timeout | undefined
  #judging = false
  /** The longest the broker was silent in the stall going on (announced), ms. */
  #brokerSilentMs = 0
  /** Set when the runner stopped waiting for a silent broker: how long it had been silent, ms. */
  gaveUpOnBrokerMs: number | undefined
  #done: (() => void) | undefined
  /**
   * Set once the run is judged over (every agent done, or the broker given up on): the runner
   * reads what is stored and closes, waiting for no agent any more.
   */
  #over = false
  /** Agents heard again after the run was over, already told of. */
  readonly #toldTooLate = new Set<string>()
  /** The index of the last change record read. */
  #changes = 0
  readonly #donePromise: Promise<void>
  /** Silent agents with a probe of their connection under way. */
  readonly #probing = new Set<string>()
  /** Silent agents whose connection the broker said is closed. */
  readonly #closed = new Set<string>()
  /** The `lost` events this watcher stored itself (agent:atMs): read back, they are applied already. */
  readonly #ownLost = new Set<string>()
  /** Silent agents already announced as such (still connected). */
  readonly #toldSilent = new Set<string>()
  /** Set when the end came before every message stored was read (the summary may miss some). */
  unread = false

  constructor(private readonly o: RunWatcherOptions) {
    this.#now = o.now ?? Date.now
    this.board = new AgentBoard(this.#now)
    this.#reader = new RunReader(o.js, o.jsm, o.runId)
    this.#outbox = new Outbox(o.js)
    this.#donePromise = new Promise((resolve) => (this.#done = resolve))
  }

  /** Starts reading the stream and listening to heartbeats. */
  async start(): Promise<void> {
    this.#heartbeats = this.o.nc.subscribe(subjects.allHeartbeats, {
      callback: (_e, m) => {
        const hb = decode<AgentHeartbeat>(m.data)
        if (hb?.type === 'agent.heartbeat' && hb.runId === this.o.runId) this.#heardLive(hb.agentId)
      },
    })
    await this.#reader.start((message) => {
      switch (message.type) {
        case 'run.meta':
          this.meta = message
          this.board.expect(message.agents)
          break
        case 'run.snapshot':
          this.board.addSnapshot(message.agentId, message.snapshot)
          this.o.onSnapshot(message.snapshot)
          break
        case 'run.event': {
          // Our own give-up, read back: applied when made (the agent may have come back since).
          if (message.event === 'lost' && this.#ownLost.has(`${message.agentId}:${message.atMs}`)) break
          const wasTerminal = this.board.isTerminal(message.agentId)
          const step = this.board.addEvent(message)
          if (step !== undefined) this.o.onStep(step)
          if (message.event === 'finished' && message.undelivered !== undefined) this.o.onUndelivered?.(message.agentId, message.undelivered)
          if (!wasTerminal && this.#judging) this.#announce(message)
          break
        }
        case 'run.end':
          this.end = message
          break
        case 'run.change':
          // In order and once: a record whose index was seen is a redelivery.
          if (message.index <= this.#changes) break
          this.#changes = message.index
          this.o.onChange?.(message.event, message.live)
          break
      }
      this.#checkDone()
    })
    this.#timer = setInterval(() => this.#judge(), 250)
  }

  /** From now on, silent agents are judged lost (once the replay of what is stored is over). */
  judgeSilence(): void {
    for (const row of this.board.rows()) this.board.heard(row.agentId, this.#now())
    this.#judging = true
  }

  /** Agents that must finish for the run to be over (known before the meta record is read). */
  expect(agentIds: readonly string[]): void {
    this.board.expect(agentIds)
  }

  /** Resolves once every agent is done (finished, failed, refused or lost) and the stream read. */
  async done(): Promise<void> {
    await this.#donePromise
    // A broker we gave up on cannot say what is left to read.
    if (this.gaveUpOnBrokerMs !== undefined) return
    if (await this.#reader.caughtUp()) return
    this.unread = true
    this.o.onNotice(`the run's stored results were not all read within 10 s: the summary may miss some. loads-runner --attach ${this.o.runId} replays all of them`)
  }

  /** Every message stored so far has been read. */
  caughtUp(): Promise<boolean> {
    return this.#reader.caughtUp()
  }

  async close(): Promise<void> {
    clearInterval(this.#timer)
    this.#heartbeats?.unsubscribe()
    await this.#outbox.flushed(this.gaveUpOnBrokerMs !== undefined ? 1000 : 10_000)
    this.#reader.stop()
  }

  #checkDone(): void {
    if (this.board.allDone() && (this.meta !== undefined || this.end !== undefined)) this.#finish()
  }

  #finish(): void {
    this.#over = true
    this.#done?.()
  }

  #judge(): void {
    if (!this.#judging || this.gaveUpOnBrokerMs !== undefined) return
    const now = this.#now()
    if (this.#judgeBroker(now)) return
    for (const row of this.board.rows()) {
      const id = row.agentId
      if (this.board.isTerminal(id)) continue
      const silentMs = this.o.watch.silenceMs(row.lastHeardMs, now)
      if (silentMs <= SILENCE_LIMIT_MS) continue
      // Silent is not gone: a frozen or starved agent still runs, and its results reach the
      // stream once it thaws. Only a closed connection, or the wait's end, gives it up.
      this.board.silent(id)
      if (this.#closed.has(id)) this.#giveUp(id, now, silentMs, 'closed')
      else if (silentMs > (this.o.agentWaitMs ?? AGENT_WAIT_MS)) this.#giveUp(id, now, silentMs, 'open')
      else this.#probe(id)
    }
    this.#checkDone()
  }

  #giveUp(agentId: string, now: number, silentMs: number, connection: 'open' | 'closed'): void {
    const lost: AgentEvent = { type: 'run.event', runId: this.o.runId, agentId, event: 'lost', atMs: now, silentMs, connection }
    this.#closed.delete(agentId)
    this.#toldSilent.delete(agentId)
    this.board.addEvent(lost)
    this.#ownLost.add(`${agentId}:${now}`)
    this.#announce(lost)
    // Stored too, so that `--attach` later tells the same story.
    this.#outbox.push(subjects.runEvent(this.o.runId, agentId), lost, `lost:${agentId}:${now}`)
  }

  /**
   * Asks the broker whether a silent agent is still connected: a request on its run subject that
   * finds no responder says its connection is closed (killed, crashed); one that times out says
   * it is there but does not answer (frozen, starved), and it is waited for.
   */
  #probe(agentId: string): void {
    if (this.#probing.has(agentId) || this.o.nc.isClosed()) return
    this.#probing.add(agentId)
    const probe = { type: 'agent.probe', runId: this.o.runId, agentId }
    this.o.nc
      .request(subjects.runRequest(agentId), encode(probe), { timeout: PROBE_TIMEOUT_MS })
      .then(
        () => {},
        (err: unknown) => {
          if ((err as { isNoResponders?: () => boolean }).isNoResponders?.() === true) {
            this.#closed.add(agentId)
            return
          }
          const row = this.board.row(agentId)
          if (row?.state !== 'silent' || this.#toldSilent.has(agentId) || !this.o.watch.connected || this.o.watch.stalled) return
          this.#toldSilent.add(agentId)
          const wait = this.o.agentWaitMs ?? AGENT_WAIT_MS
          this.o.onNotice(
            `agent ${agentId} silent: no heartbeat for ${((this.#now() - row.lastHeardMs) / 1000).toFixed(1)} s, but still connected to the broker (frozen or starved); ` +
              `waiting for it up to ${(wait / 1000).toFixed(0)} s — its results so far are kept`,
          )
        },
      )
      .finally(() => this.#probing.delete(agentId))
  }

  /**
   * A heartbeat of this run: an agent that went silent, or was given up, runs on — and is waited
   * for again, unless the run is already over: then it stays as it was judged, and is told so.
   */
  #heardLive(agentId: string): void {
    const now = this.#now()
    const row = this.board.row(agentId)
    const silentMs = row === undefined ? 0 : now - row.lastHeardMs
    if (this.#over) {
      if (row === undefined || (row.state !== 'silent' && row.state !== 'lost') || this.#toldTooLate.has(agentId)) return
      this.#toldTooLate.add(agentId)
      this.o.onNotice(
        `agent ${agentId} answers again after ${(silentMs / 1000).toFixed(1)} s of silence, too late: ${row.state === 'lost' ? 'the run had given it up and is over' : 'the run is over'}; ` +
          `what it did after its last snapshot counted here is not in this summary (loads-runner --attach ${this.o.runId} replays all it stores)`,
      )
      return
    }
    this.board.heard(agentId, now)
    const was = this.board.back(agentId)
    if (was === undefined) return
    this.#closed.delete(agentId)
    this.#toldSilent.delete(agentId)
    this.o.onNotice(`agent ${agentId} answers again after ${(silentMs / 1000).toFixed(1)} s of silence${was === 'lost' ? ' (it had been given up)' : ''}; the run waits for its results`)
  }

  /**
   * The broker itself silent: say so (once it is worth saying), stop waiting after
   * `brokerWaitMs`; true when the run was given up.
   */
  #judgeBroker(now: number): boolean {
    const silentMs = this.o.watch.outageMs(now)
    const server = this.o.nc.getServer()
    if (silentMs === 0) {
      if (this.#brokerSilentMs >= BROKER_NOTICE_MS) this.o.onNotice(`the broker at ${server} answers again; the run goes on`)
      this.#brokerSilentMs = 0
      return false
    }
    if (silentMs >= BROKER_NOTICE_MS && this.#brokerSilentMs < BROKER_NOTICE_MS) {
      const wait = this.o.brokerWaitMs
      this.o.onNotice(
        `the broker at ${server} has not answered for ${(silentMs / 1000).toFixed(0)} s (${this.o.watch.connected ? 'frozen or stalled: its socket is open' : 'disconnected'}); ` +
          `waiting for it${wait !== undefined ? ` up to ${(wait / 1000).toFixed(0)} s` : ''} — the agents are not counted lost meanwhile`,
      )
    }
    this.#brokerSilentMs = silentMs
    if (this.o.brokerWaitMs === undefined || silentMs < this.o.brokerWaitMs) return false
    this.gaveUpOnBrokerMs = silentMs
    this.o.onNotice(
      `gave up on the broker at ${server} after ${(silentMs / 1000).toFixed(0)} s without an answer: the summary covers what it delivered before. ` +
        `The agents stop on their own without it; what they stored is kept: once the broker is back, loads-runner --attach ${this.o.runId}`,
    )
    this.#finish()
    return true
  }

  #announce(e: AgentEvent): void {
    const who = `agent ${e.agentId}`
    switch (e.event) {
      case 'lost': {
        const how =
          e.connection === 'closed'
            ? ' and its connection to the broker is closed'
            : e.connection === 'open'
              ? ' though still connected (frozen or starved): gave up waiting for it'
              : ''
        this.o.onNotice(`${who} lost: no heartbeat for ${(e.silentMs / 1000).toFixed(1)} s${how}; its results up to its last snapshot are kept`)
        break
      }
      case 'failed':
        this.o.onNotice(`${who} failed: ${e.message}${e.detail ? `\n${e.detail}` : ''}`)
        break
      case 'finished':
        if (e.reason === 'runner-lost' || e.reason === 'broker-lost' || e.reason === 'shutdown') this.o.onNotice(`${who} stopped on its own (${e.reason})`)
        for (const note of e.notes ?? []) this.o.onNotice(`${who}: ${note}`)
        if (e.undelivered !== undefined) this.o.onNotice(`${who}: ${describeUndelivered(e.undelivered)} it counted were not delivered (${e.undelivered.messages} snapshot parts too big for the broker): not in the results`)
        break
    }
  }
}
