/**
 * The cluster commands of the original runner: `--ping-broker` (who is there, what runs),
 * `--purge-broker` (stop every run) and `--check-cluster` (a one-run health check on every idle
 * agent, pass or fail each).
 */
import type { NatsConnection } from '@nats-io/transport-node'
import { randomUUID } from 'node:crypto'
import type { PreparedTest } from '../runner/prepare-test.js'
import type { RunConfig } from '../load/run-config.js'
import { ExitCode } from '../runner/exit-codes.js'
import { openJetStream } from './cluster-engine.js'
import { ConnectionWatch } from './connection-watch.js'
import { discoverAgents } from './discover.js'
import { connectBroker, type BrokerOptions } from './nats-connection.js'
import { decode, LOADS_VERSION, subjects, type AgentInfo, type PurgeReply } from './protocol.js'
import { RunControl } from './run-control.js'
import { listRuns, type StoredRun } from './run-stream.js'
import { RunWatcher } from './run-watcher.js'
import { ClusterError, submitRun } from './submit-run.js'

export interface AdminOutput {
  out(line: string): void
}

async function withBroker<T>(broker: BrokerOptions, name: string, fn: (nc: NatsConnection) => Promise<T>): Promise<T> {
  const nc = await connectBroker(broker, { name })
  try {
    return await fn(nc)
  } finally {
    await nc.drain().catch(() => {})
  }
}

/** `--ping-broker`: the broker, every agent (id, host, state, current run) and the active runs. */
export async function pingBroker(broker: BrokerOptions, o: AdminOutput): Promise<number> {
  return withBroker(broker, 'loads-runner --ping-broker', async (nc) => {
    const info = nc.info
    const rtt = await nc.rtt()
    o.out(`broker ${nc.getServer()}: nats-server ${info?.version ?? '?'}, JetStream ${info?.jetstream ? 'on' : 'OFF'}, max message ${formatBytes(info?.max_payload ?? 0)}, round trip ${rtt.toFixed(1)} ms`)
    const agents = await discoverAgents(nc)
    const byState = countBy(agents, (a) => (a.version === LOADS_VERSION ? a.state : `other version`))
    o.out(`agents: ${agents.length}${agents.length ? ` (${[...byState].map(([s, n]) => `${n} ${s}`).join(', ')})` : ''}`)
    if (agents.length > 0) for (const line of agentTable(agents)) o.out(`  ${line}`)
    let runs: StoredRun[] = []
    if (info?.jetstream) {
      const { jsm } = await openJetStream(nc)
      runs = await listRuns(jsm, 10)
    }
    const running = new Map<string, AgentInfo[]>()
    for (const a of agents) if (a.runId) running.set(a.runId, [...(running.get(a.runId) ?? []), a])
    const active = runs.filter((r) => running.has(r.runId))
    o.out(`runs: ${active.length} active, ${runs.length} stored${runs.length > 0 ? ` (follow one with --attach RUN_ID)` : ''}`)
    for (const r of runs.slice(0, 10)) {
      const state = running.has(r.runId) ? `running on ${running.get(r.runId)!.length} agents` : runState(r)
      o.out(`  ${r.runId}  ${new Date(r.meta?.startMs ?? r.createdMs).toISOString()}  ${r.meta?.agents.length ?? '?'} agents  ${state}  ${r.meta?.address ?? ''}`)
    }
    if (runs.length > 10) o.out(`  … and ${runs.length - 10} older`)
    return ExitCode.OK
  })
}

function runState(r: StoredRun): string {
  if (!r.end) return 'unfinished (its runner is gone)'
  if (r.end.interrupted) return 'stopped'
  return r.end.partial ? 'finished, partial' : 'finished'
}

function agentTable(agents: AgentInfo[]): string[] {
  const rows = agents.map((a) => [a.agentId, a.host, a.state, a.runId ?? '-', a.version, String(a.cores), String(a.workers), formatAge(Date.now() - a.startedMs)])
  const header = ['AGENT', 'HOST', 'STATE', 'RUN', 'VERSION', 'CORES', 'WORKERS', 'UP']
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  return [header, ...rows].map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd())
}

/** `--purge-broker`: every agent stops its run (results so far are stored). */
export async function purgeBroker(broker: BrokerOptions, o: AdminOutput): Promise<number> {
  return withBroker(broker, 'loads-runner --purge-broker', async (nc) => {
    const stopped = new Map<string, string[]>()
    let answered = 0
    try {
      const replies = await nc.requestMany(subjects.purge, undefined, { strategy: 'timer', maxWait: 1000 })
      for await (const m of replies) {
        const reply = decode<PurgeReply>(m.data)
        if (reply?.type !== 'purge.reply') continue
        answered++
        if (reply.runId) stopped.set(reply.runId, [...(stopped.get(reply.runId) ?? []), reply.agentId])
      }
    } catch {
      // No agent at all.
    }
    for (const [runId, agents] of stopped) o.out(`stopped run ${runId} on ${agents.length} agents: ${agents.sort().join(', ')}`)
    o.out(`${answered} agents answered; ${stopped.size} runs stopped`)
    return ExitCode.OK
  })
}

export interface CheckOptions {
  broker: BrokerOptions
  prepared: PreparedTest
  config: RunConfig
  address: string
  notice(line: string): void
  /** Longest wait for the whole check. */
  timeoutMs?: number
  replicas?: number
}

/** `--check-cluster`: one user, one run, on every idle agent; PASS or FAIL for each. */
export async function checkCluster(o: CheckOptions, out: AdminOutput): Promise<number> {
  return withBroker(o.broker, 'loads-runner --check-cluster', async (nc) => {
    const { js, jsm } = await openJetStream(nc)
    const runId = randomUUID()
    const control = new RunControl(nc, runId)
    control.start()
    const started = Date.now()
    let watcher: RunWatcher | undefined
    try {
      const submitted = await submitRun({
        nc, js, jsm, runId,
        address: `health check: ${o.address}`,
        config: o.config,
        plan: { steps: [{ users: 1, hits: 1 }] },
        bundle: o.prepared.bundle,
        workers: 1,
        agents: 'all-idle',
        supervised: true,
        notice: o.notice,
        brokerUrl: o.broker.servers.join(','),
        ...(o.replicas !== undefined ? { replicas: o.replicas } : {}),
      }).catch((err: unknown) => {
        // Every agent refused (the test does not load on any): still a check result per agent.
        if (err instanceof ClusterError && err.code !== 'LOADS_ERR_NOT_ENOUGH_AGENTS') return undefined
        throw err
      })
      watcher = new RunWatcher({ nc, js, jsm, watch: new ConnectionWatch(nc), runId, onSnapshot: () => {}, onStep: () => {}, onNotice: () => {} })
      if (submitted) watcher.expect(submitted.accepted)
      await watcher.start()
      watcher.judgeSilence()
      const timeoutMs = o.timeoutMs ?? 60_000
      let timer: NodeJS.Timeout | undefined
      const timedOut = await Promise.race([
        watcher.done().then(() => false),
        new Promise<boolean>((r) => (timer = setTimeout(() => r(true), timeoutMs))),
      ])
      clearTimeout(timer)
      if (timedOut) control.stop()
      submitted?.bundleServer?.unsubscribe()
      const rows = watcher.board.rows().sort((a, b) => a.agentId.localeCompare(b.agentId))
      let failed = 0
      out.out(`check of ${rows.length} idle agents (${o.address}, 1 user × 1 run each):`)
      for (const r of rows) {
        const ok = r.state === 'done' && r.tests.run >= 1 && r.tests.errors + r.tests.failures === 0
        if (!ok) failed++
        const why = ok
          ? `${r.tests.run} run, ${r.hits} hits`
          : r.message ?? (r.state === 'done' ? `${r.tests.errors} errors, ${r.tests.failures} failures in ${r.tests.run} runs` : timedOut ? 'no answer in time' : r.state)
        out.out(`  ${ok ? 'PASS' : 'FAIL'}  ${r.agentId}  ${why}`)
      }
      out.out(`${rows.length - failed} passed, ${failed} failed (${((Date.now() - started) / 1000).toFixed(1)} s)`)
      return failed === 0 ? ExitCode.OK : ExitCode.TEST_FAILURES
    } finally {
      control.close()
      await watcher?.close()
    }
  })
}

function countBy<T>(items: T[], key: (t: T) => string): Map<string, number> {
  const m = new Map<string, number>()
  for (const i of items) m.set(key(i), (m.get(key(i)) ?? 0) + 1)
  return m
}

function formatBytes(n: number): string {
  return n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(0)} MB` : `${(n / 1024).toFixed(0)} KB`
}

function formatAge(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000))
  if (s < 120) return `${s}s`
  if (s < 7200) return `${Math.round(s / 60)}m`
  return `${Math.round(s / 3600)}h`
}
