import type { NatsConnection } from '@nats-io/transport-node'
import type { EngineChange } from '../load/control.js'
import { encode, HEARTBEAT_MS, subjects, type ControlMessage, type LiveState } from './protocol.js'

/**
 * The runner's voice to the agents of its run: a heartbeat every second (agents stop the load
 * when it falls silent), and stop or detach. Once stopping, every heartbeat repeats the stop,
 * so an agent that was reconnecting when it was first said still hears it.
 */
export class RunControl {
  #timer: NodeJS.Timeout | undefined
  #stopping = false
  #live: LiveState | undefined

  constructor(
    private readonly nc: NatsConnection,
    private readonly runId: string,
  ) {}

  /** The live state sent so far (what a change record stores beside its event). */
  get live(): LiveState {
    return this.#live ?? { seq: 0, paused: false }
  }

  /** Starts the heartbeats (before any agent accepts the run: it expects them from then on). */
  start(): void {
    this.#send('heartbeat')
    this.#timer = setInterval(() => this.#send(this.#stopping ? 'stop' : 'heartbeat'), HEARTBEAT_MS)
  }

  /** A live change for the agents: sent now and with every heartbeat after. */
  change(change: EngineChange): void {
    this.#live = nextLiveState(this.#live, change)
    this.#send('heartbeat')
  }

  stop(): void {
    this.#stopping = true
    this.#send('stop')
  }

  /** The agents go on without heartbeats; this runner falls silent. */
  detach(): void {
    this.#send('detach')
    this.close()
  }

  close(): void {
    clearInterval(this.#timer)
    this.#timer = undefined
  }

  #send(action: ControlMessage['action']): void {
    if (this.nc.isClosed()) return
    const message: ControlMessage = { type: 'control', runId: this.runId, agentId: null, action, ...(this.#live !== undefined ? { live: this.#live } : {}) }
    try {
      this.nc.publish(subjects.control(this.runId), encode(message))
    } catch {
      // Disconnected: the next heartbeat goes out after the reconnect.
    }
  }
}

/** The live state after a change: a new seq, the new scale or pause state, the rest kept. */
export function nextLiveState(previous: LiveState | undefined, change: EngineChange): LiveState {
  const seq = (previous?.seq ?? 0) + 1
  const live: LiveState = { seq, paused: previous?.paused ?? false, ...(previous?.scale !== undefined ? { scale: previous.scale } : {}) }
  if ('users' in change) live.scale = { seq, users: change.users }
  else if ('rate' in change) live.scale = { seq, rate: change.rate }
  else live.paused = 'pause' in change
  return live
}
