import type { NatsConnection } from '@nats-io/transport-node'
import { decode, subjects, type AgentInfo, type PingReply } from './protocol.js'

/** How long a ping waits for agents' answers. */
export const DISCOVER_MS = 700

/** Every agent that answers a ping within `waitMs`, sorted by id. */
export async function discoverAgents(nc: NatsConnection, waitMs = DISCOVER_MS): Promise<AgentInfo[]> {
  const found = new Map<string, AgentInfo>()
  try {
    const replies = await nc.requestMany(subjects.ping, undefined, { strategy: 'timer', maxWait: waitMs })
    for await (const m of replies) {
      const reply = decode<PingReply>(m.data)
      if (reply?.type === 'agent.info') found.set(reply.agentId, reply.info)
    }
  } catch {
    // No responders: no agent at all.
  }
  return [...found.values()].sort((a, b) => a.agentId.localeCompare(b.agentId))
}
