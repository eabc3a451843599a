/**
 * The NATS client libraries, loaded when the first broker connection is made: a command that never
 * reaches a broker (a local run, `--help`, a usage error) does not pay their start-up, a fifth of
 * the CLI's. Every other use holds a connection, so the libraries are loaded by then.
 */
import type * as JetStream from '@nats-io/jetstream'
import type * as Transport from '@nats-io/transport-node'

interface NatsClient {
  transport: typeof Transport
  jetstream: typeof JetStream
}

let loaded: NatsClient | undefined

/** Loads both libraries, once. */
export async function loadNatsClient(): Promise<NatsClient> {
  if (loaded === undefined) {
    const [transport, jetstream] = await Promise.all([import('@nats-io/transport-node'), import('@nats-io/jetstream')])
    loaded = { transport, jetstream }
  }
  return loaded
}

/** The libraries, for code that holds a connection (made by `connectBroker`, which loaded them). */
export function natsClient(): NatsClient {
  if (loaded === undefined) throw new Error('the NATS client is used before any broker connection was made')
  return loaded
}
