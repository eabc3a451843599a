import type { NatsConnection } from '@nats-io/transport-node'
import { natsClient } from './nats-client.js'
import { decode, subjects, type AgentInfo, type PingReply } from './protocol.js'

/** How long a ping waits for agents' answers. */
export const DISCOVER_MS = 700
/** Answers are collected at least this long, so that the pick is not always the nearest agents. */
const MIN_WAIT_MS = 150

/**
 * Every agent that answers a ping within `waitMs`, sorted by id; or, with `enough`, those that
 * answered by the time `enough(found)` holds (a run that needs 5 idle agents need not wait for
 * the slowest of 50).
 */
export async function discoverAgents(nc: NatsConnection, waitMs = DISCOVER_MS, enough?: (found: AgentInfo[]) => boolean): Promise<AgentInfo[]> {
  const found = new Map<string, AgentInfo>()
  const inbox = natsClient().transport.createInbox()
  const sub = nc.subscribe(inbox, {
    callback: (_err, m) => {
      const reply = decode<PingReply>(m.data)
      if (reply?.type === 'agent.info') found.set(reply.agentId, reply.info)
    },
  })
  nc.publish(subjects.ping, undefined, { reply: inbox })
  const started = Date.now()
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const elapsed = Date.now() - started
      if (elapsed >= waitMs || (enough && elapsed >= MIN_WAIT_MS && enough([...found.values()]))) {
        clearInterval(timer)
        resolve()
      }
    }, 25)
  })
  sub.unsubscribe()
  return [...found.values()].sort((a, b) => a.agentId.localeCompare(b.agentId))
}
