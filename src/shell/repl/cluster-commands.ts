import type { NatsConnection } from '@nats-io/transport-node'
import { openJetStream } from '../../cluster/cluster-engine.js'
import { discoverAgents } from '../../cluster/discover.js'
import { connectBroker, type BrokerOptions } from '../../cluster/nats-connection.js'
import type { AgentInfo } from '../../cluster/protocol.js'
import { RunControl } from '../../cluster/run-control.js'
import { findRun, listRuns, type StoredRun } from '../../cluster/run-stream.js'

/**
 * The shell's cluster commands (`loads shell --broker URL`): `.agents`, `.runs`, `.stop RUN`.
 * Each connects, asks, and lets go, so a broker that restarts between two commands is no matter.
 * They return the text to print.
 */
export class ClusterCommands {
  constructor(private readonly broker: BrokerOptions) {}

  /** `.agents`: every agent that answers a ping, with its state and run. */
  agents(): Promise<string> {
    return this.#with('loads shell .agents', async (nc) => {
      const agents = await discoverAgents(nc)
      if (agents.length === 0) return `no agent answered on ${this.broker.servers.join(', ')}`
      return [`${agents.length} agent${agents.length === 1 ? '' : 's'}:`, ...table(
        ['AGENT', 'HOST', 'STATE', 'RUN', 'WORKERS', 'VERSION'],
        agents.map((a) => [a.agentId, a.host, a.state, a.runId ?? '-', String(a.workers), a.version]),
      )].join('\n')
    })
  }

  /** `.runs`: the runs stored on the broker, newest first, and which are running now. */
  runs(): Promise<string> {
    return this.#with('loads shell .runs', async (nc) => {
      const { jsm } = await openJetStream(nc)
      const [runs, agents] = await Promise.all([listRuns(jsm), discoverAgents(nc)])
      if (runs.length === 0) return 'the broker holds no run'
      return table(
        ['RUN', 'STARTED', 'AGENTS', 'STATE', 'TEST'],
        runs.slice(0, 20).map((r) => [r.runId, new Date(r.meta?.startMs ?? r.createdMs).toISOString(), String(r.meta?.agents.length ?? '?'), runState(r, agents), r.meta?.address ?? '']),
      ).join('\n') + (runs.length > 20 ? `\n… and ${runs.length - 20} older` : '')
    })
  }

  /** `.stop RUN`: tells the agents of a run (id or unique prefix) to stop; its results stay stored. */
  stop(idOrPrefix: string): Promise<string> {
    return this.#with('loads shell .stop', async (nc) => {
      const { jsm } = await openJetStream(nc)
      const found = await findRun(jsm, idOrPrefix)
      if ('error' in found) return `error: ${found.error}`
      const agents = (await discoverAgents(nc)).filter((a) => a.runId === found.runId)
      const control = new RunControl(nc, found.runId)
      control.stop()
      control.close()
      await nc.flush()
      return agents.length === 0
        ? `run ${found.runId}: no agent is running it (${found.end ? 'it has finished' : 'its agents are gone'}); stop sent anyway`
        : `run ${found.runId}: stop sent to ${agents.length} agent${agents.length === 1 ? '' : 's'} (${agents.map((a) => a.agentId).join(', ')})`
    })
  }

  async #with(name: string, fn: (nc: NatsConnection) => Promise<string>): Promise<string> {
    const nc = await connectBroker(this.broker, { name, timeoutMs: 3000 })
    try {
      return await fn(nc)
    } finally {
      await nc.drain().catch(() => {})
    }
  }
}

function runState(run: StoredRun, agents: AgentInfo[]): string {
  const on = agents.filter((a) => a.runId === run.runId).length
  if (on > 0) return `running on ${on}`
  if (run.end === undefined) return 'unfinished'
  if (run.end.interrupted) return 'stopped'
  return run.end.partial ? 'partial' : 'finished'
}

function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  return [header, ...rows].map((r) => `  ${r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()}`)
}
