import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream'
import type { NatsConnection, Subscription } from '@nats-io/transport-node'
import type { ChangeEvent } from '../load/control.js'
import type { Snapshot } from '../stats/types.js'
import { AgentBoard } from './agent-board.js'
import type { ConnectionWatch } from './connection-watch.js'
import { Outbox } from './outbox.js'
import { decode, SILENCE_LIMIT_MS, subjects, type AgentEvent, type AgentHeartbeat, type LiveState, type RunEnd, type RunMeta } from './protocol.js'
import { RunReader } from './run-stream.js'

export interface RunWatcherOptions {
  nc: NatsConnection
  js: JetStreamClient
  jsm: JetStreamManager
  watch: ConnectionWatch
  runId: string
  onSnapshot(snapshot: Snapshot): void
  /** The first time any agent starts step `index`. */
  onStep(index: number): void
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
  now?: () => number
}

/** A broker silent this long is worth a line to the user (shorter stalls happen under load), ms. */
const BROKER_NOTICE_MS = 5000

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
  /** The index of the last change record read. */
  #changes = 0
  readonly #donePromise: Promise<void>

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
        if (hb?.type === 'agent.heartbeat' && hb.runId === this.o.runId) this.board.heard(hb.agentId, this.#now())
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
          const wasTerminal = this.board.isTerminal(message.agentId)
          const step = this.board.addEvent(message)
          if (step !== undefined) this.o.onStep(step)
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
    await this.#reader.caughtUp()
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
    if (this.board.allDone() && (this.meta !== undefined || this.end !== undefined)) this.#done?.()
  }

  #judge(): void {
    if (!this.#judging || this.gaveUpOnBrokerMs !== undefined) return
    const now = this.#now()
    if (this.#judgeBroker(now)) return
    for (const row of this.board.rows()) {
      if (this.board.isTerminal(row.agentId)) continue
      const silentMs = this.o.watch.silenceMs(row.lastHeardMs, now)
      if (silentMs <= SILENCE_LIMIT_MS) continue
      const lost: AgentEvent = { type: 'run.event', runId: this.o.runId, agentId: row.agentId, event: 'lost', atMs: now, silentMs }
      this.board.addEvent(lost)
      this.#announce(lost)
      // Stored too, so that `--attach` later tells the same story.
      this.#outbox.push(subjects.runEvent(this.o.runId, row.agentId), lost, `lost:${row.agentId}`)
    }
    this.#checkDone()
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
    this.#done?.()
    return true
  }

  #announce(e: AgentEvent): void {
    const who = `agent ${e.agentId}`
    switch (e.event) {
      case 'lost':
        this.o.onNotice(`${who} lost: no heartbeat for ${(e.silentMs / 1000).toFixed(1)} s; its results up to its last snapshot are kept`)
        break
      case 'failed':
        this.o.onNotice(`${who} failed: ${e.message}${e.detail ? `\n${e.detail}` : ''}`)
        break
      case 'finished':
        if (e.reason === 'runner-lost' || e.reason === 'broker-lost' || e.reason === 'shutdown') this.o.onNotice(`${who} stopped on its own (${e.reason})`)
        for (const note of e.notes ?? []) this.o.onNotice(`${who}: ${note}`)
        break
    }
  }
}
