import { randomUUID } from 'node:crypto'
import { planRun, type RunOptions } from '../runner/run.js'
import { describeTest, openJetStream } from './cluster-engine.js'
import { connectBroker, type BrokerOptions } from './nats-connection.js'
import { submitRun, type Submitted } from './submit-run.js'

export interface DetachedRunOptions {
  broker: BrokerOptions
  agents: number
  workers: number | null
  notice(line: string): void
  replicas?: number
}

/**
 * `--detach`: sends the run and returns once every agent said yes. The agents run it without
 * runner heartbeats; its results go to its stream, for `--attach RUN_ID` now or later.
 */
export async function submitDetached(options: RunOptions, o: DetachedRunOptions): Promise<Pick<Submitted, 'accepted' | 'refused'> & { runId: string }> {
  const { plan, prepared, config } = await planRun(options)
  const runId = randomUUID()
  const nc = await connectBroker(o.broker, { name: `loads-runner ${runId} (detached)` })
  try {
    const { js, jsm } = await openJetStream(nc)
    const submitted = await submitRun({
      nc,
      js,
      jsm,
      runId,
      address: describeTest({ prepared, config }),
      config,
      plan,
      bundle: prepared.bundle,
      workers: o.workers,
      agents: o.agents,
      supervised: false,
      notice: o.notice,
      brokerUrl: o.broker.servers.join(','),
      ...(o.replicas !== undefined ? { replicas: o.replicas } : {}),
    })
    // Every agent that said yes has its copy of the bundle already.
    submitted.bundleServer?.unsubscribe()
    return { runId, accepted: submitted.accepted, refused: submitted.refused }
  } finally {
    await nc.drain().catch(() => {})
  }
}
