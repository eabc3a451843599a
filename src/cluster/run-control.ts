import type { NatsConnection } from '@nats-io/transport-node'
import { encode, HEARTBEAT_MS, subjects, type ControlMessage } from './protocol.js'

/**
 * The runner's voice to the agents of its run: a heartbeat every second (agents stop the load
 * when it falls silent), and stop or detach. Once stopping, every heartbeat repeats the stop,
 * so an agent that was reconnecting when it was first said still hears it.
 */
export class RunControl {
  #timer: NodeJS.Timeout | undefined
  #stopping = false

  constructor(
    private readonly nc: NatsConnection,
    private readonly runId: string,
  ) {}

  /** Starts the heartbeats (before any agent accepts the run: it expects them from then on). */
  start(): void {
    this.#send('heartbeat')
    this.#timer = setInterval(() => this.#send(this.#stopping ? 'stop' : 'heartbeat'), HEARTBEAT_MS)
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
    const message: ControlMessage = { type: 'control', runId: this.runId, agentId: null, action }
    try {
      this.nc.publish(subjects.control(this.runId), encode(message))
    } catch {
      // Disconnected: the next heartbeat goes out after the reconnect.
    }
  }
}
