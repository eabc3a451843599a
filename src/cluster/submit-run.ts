/**
 * Sends a run to N idle agents: picks them (same Loads version only), stores the run's stream,
 * ships the bundle, and collects each agent's yes or no. Used by a followed run, `--detach` and
 * `--check-cluster` alike.
 */
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream'
import type { NatsConnection, Subscription } from '@nats-io/transport-node'
import type { TestBundle } from '../case/bundle.js'
import { LoadsError } from '../errors.js'
import type { Plan } from '../load/plan.js'
import type { RunConfig } from '../load/run-config.js'
import { bundleRef, serveBundle } from './bundle-transfer.js'
import { discoverAgents } from './discover.js'
import {
  decode,
  encode,
  LOADS_VERSION,
  subjects,
  type AgentEvent,
  type AgentInfo,
  type RunMeta,
  type RunReply,
  type RunRequest,
} from './protocol.js'
import { createRunStream } from './run-stream.js'

/** A cluster that cannot take the run (too few idle agents, every agent refused). Exit code 2. */
export class ClusterError extends LoadsError {
  constructor(message: string, hint?: string, code = 'LOADS_ERR_CLUSTER') {
    super(code, message, { hint })
    this.name = 'ClusterError'
  }
}

export interface SubmitOptions {
  nc: NatsConnection
  js: JetStreamClient
  jsm: JetStreamManager
  runId: string
  address: string
  config: RunConfig
  plan: Plan
  bundle: TestBundle
  /** Worker threads per agent, when the user said (`-w`). */
  workers: number | null
  /** How many agents; `'all-idle'` takes every idle agent (`--check-cluster`). */
  agents: number | 'all-idle'
  /** False for `--detach`: the agents go on without runner heartbeats. */
  supervised: boolean
  /** Lines for the user (agents of another version skipped …). */
  notice: (line: string) => void
  /** Broker URL for messages. */
  brokerUrl: string
  replicas?: number
}

export interface Submitted {
  meta: RunMeta
  accepted: string[]
  refused: { agentId: string; code: string; message: string; detail: string }[]
  /** Serves the bundle to agents that fetch it in chunks; unsubscribe once the run is over. */
  bundleServer: Subscription | undefined
}

/** Time an agent gets to fetch and load the bundle and answer. */
const RUN_REQUEST_TIMEOUT_MS = 30_000

export async function submitRun(o: SubmitOptions): Promise<Submitted> {
  const wantedIdle = (found: AgentInfo[]): boolean =>
    o.agents !== 'all-idle' && found.filter((a) => a.version === LOADS_VERSION && a.state === 'idle').length >= o.agents
  const agents = await discoverAgents(o.nc, undefined, wantedIdle)
  const other = agents.filter((a) => a.version !== LOADS_VERSION)
  const ours = agents.filter((a) => a.version === LOADS_VERSION)
  const idle = ours.filter((a) => a.state === 'idle')
  for (const a of other) {
    o.notice(`agent ${a.agentId} runs Loads ${a.version}, this runner ${LOADS_VERSION}: not used (install the same version on every agent)`)
  }
  const wanted = o.agents === 'all-idle' ? idle.length : o.agents
  if (idle.length < wanted || wanted === 0) throw notEnough(o, wanted, agents, idle, other)

  await createRunStream(o.jsm, o.runId, o.replicas)
  const ref = bundleRef(o.nc, o.bundle)
  const bundleServer = ref.code === undefined ? serveBundle(o.nc, o.runId, o.bundle) : undefined
  // Each agent learns its slot among the agents asked: --data rows are partitioned by it.
  const request = (agentId: string, slot: number): RunRequest => ({
    type: 'run.request',
    runId: o.runId,
    agentId,
    version: LOADS_VERSION,
    address: o.address,
    config: wanted > 1 ? { ...o.config, shard: { index: slot, count: wanted } } : o.config,
    plan: o.plan,
    workers: o.workers,
    supervised: o.supervised,
    bundle: ref,
  })

  const accepted: string[] = []
  const refused: Submitted['refused'] = []
  const spares = idle.slice(wanted)
  const ask = async (agentId: string, slot: number): Promise<void> => {
    let reply: RunReply | undefined
    try {
      const m = await o.nc.request(subjects.runRequest(agentId), encode(request(agentId, slot)), { timeout: RUN_REQUEST_TIMEOUT_MS })
      reply = decode<RunReply>(m.data)
    } catch (err) {
      reply = { type: 'run.reply', runId: o.runId, agentId, ok: false, code: 'LOADS_ERR_AGENT_NO_ANSWER', message: `agent ${agentId} did not answer (${(err as Error).message})`, detail: '' }
    }
    if (reply?.ok === true) {
      accepted.push(agentId)
      return
    }
    const no = reply ?? { ok: false as const, code: 'LOADS_ERR_PROTOCOL', message: `agent ${agentId} sent a reply this runner cannot read`, detail: '' }
    // Taken by another runner in the meantime: try a spare idle agent instead.
    const spare = no.code === 'LOADS_ERR_AGENT_BUSY' ? spares.shift() : undefined
    if (spare) return ask(spare.agentId, slot)
    refused.push({ agentId, code: no.code, message: no.message, detail: no.detail })
  }
  await Promise.all(idle.slice(0, wanted).map((a, slot) => ask(a.agentId, slot)))
  accepted.sort()

  for (const r of refused) {
    const event: AgentEvent = { type: 'run.event', runId: o.runId, agentId: r.agentId, event: 'refused', atMs: Date.now(), code: r.code, message: r.message, detail: r.detail }
    await o.js.publish(subjects.runEvent(o.runId, r.agentId), encode(event), { msgID: `refused:${r.agentId}` })
  }
  const meta: RunMeta = {
    type: 'run.meta',
    runId: o.runId,
    agentId: null,
    address: o.address,
    plan: o.plan,
    config: o.config,
    agents: accepted,
    startMs: Date.now(),
    version: LOADS_VERSION,
    detached: !o.supervised,
  }
  await o.js.publish(subjects.runMeta(o.runId), encode(meta), { msgID: 'meta' })

  if (accepted.length === 0) {
    bundleServer?.unsubscribe()
    const first = refused[0]
    const others = refused.length > 1 ? ` (and ${refused.length - 1} more agent${refused.length > 2 ? 's' : ''})` : ''
    const detail = first?.detail ? `\n${first.detail}` : ''
    throw new ClusterError(`${first?.message ?? 'no agent accepted the run'}${others}${detail}`, undefined, first?.code ?? 'LOADS_ERR_CLUSTER')
  }
  return { meta, accepted, refused, bundleServer }
}

function notEnough(o: SubmitOptions, wanted: number, agents: AgentInfo[], idle: AgentInfo[], other: AgentInfo[]): ClusterError {
  const busy = agents.length - idle.length - other.length
  const parts = [`${idle.length} idle`]
  if (busy > 0) parts.push(`${busy} busy`)
  if (other.length > 0) parts.push(`${other.length} of another version (${other.map((a) => `${a.agentId}: ${a.version}`).join(', ')})`)
  const what = o.agents === 'all-idle' ? 'no idle agent' : `--agents ${wanted}: only ${idle.length} idle agent${idle.length === 1 ? '' : 's'}`
  return new ClusterError(
    `${what} on ${o.brokerUrl} (${agents.length} connected: ${parts.join(', ')})`,
    agents.length === 0 ? 'start agents with `loads-cluster start --agents 5`, or `loads-agent --broker URL` on each host' : 'wait for the busy agents, start more, or ask for fewer',
    'LOADS_ERR_NOT_ENOUGH_AGENTS',
  )
}
