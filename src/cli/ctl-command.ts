/**
 * `loads ctl scale 200 | scale --rate 50 | pause | resume | stop | status`: changes a run in
 * progress, as k6's `k6 scale / pause / resume` do through k6's REST API (docs/live-control.md).
 * Pointed at the run's dashboard (`--url`, or LOADS_DASHBOARD; the token taken from the URL the
 * runner printed or from `--token`), or at a cluster run by its id (`--run`) through the broker.
 */
import type { NatsConnection } from '@nats-io/transport-node'
import { Command, InvalidArgumentError } from 'commander'
import { openJetStream } from '../cluster/cluster-engine.js'
import { connectBroker } from '../cluster/nats-connection.js'
import { readChanges, readControlState, requestChange } from '../cluster/remote-control.js'
import { findRun } from '../cluster/run-stream.js'
import { ClusterError } from '../cluster/submit-run.js'
import { UsageError } from '../errors.js'
import { describeChange, parseChange, type ChangeEvent, type RunChange } from '../load/control.js'
import { ControlError } from '../runner/live-control.js'
import { addBrokerOptions, brokerFlags, resolveBroker } from './broker-flags.js'
import { DEFAULT_DASHBOARD_PORT } from './report-options.js'
import { CliExit, type CliIO } from './cli-io.js'

interface CtlFlags {
  url?: string
  token?: string
  rate?: number
  run?: string
}

/** The longest `loads ctl --run` waits for the broker in all (connect, find the run, change it), ms. */
const BROKER_DEADLINE_MS = 20_000

const DEFAULT_URL = `http://127.0.0.1:${DEFAULT_DASHBOARD_PORT}/`

/** How long `loads ctl pause` (resume) waits for every worker to say it is in force, ms. */
const PAUSE_ACK_WAIT_MS = 5_000

function rate(value: string): number {
  if (!/^\d+(\.\d+)?$/.test(value) || !(Number(value) > 0)) throw new InvalidArgumentError(`--rate expects test runs per second above 0: got '${value}'`)
  return Number(value)
}

const EXAMPLES = `
Examples:
  loads ctl scale 200                         200 users from now on (closed model, -u)
  loads ctl scale --rate 50                   50 test runs started per second (open model, --rate)
  loads ctl pause                             no new test runs start; requests in flight finish
                                              (waits up to ${PAUSE_ACK_WAIT_MS / 1000} s until every worker holds its users)
  loads ctl resume
  loads ctl stop                              stop gracefully, as the page's Stop button
  loads ctl status                            the run's state, users and changes so far
  loads ctl pause --url 'http://10.0.0.5:8088/?token=…'
                                              a dashboard beyond loopback (its printed URL)
  loads ctl scale 300 --run 4f1c2a            a cluster run, by its id (or a unique prefix),
                                              through the broker: 300 users over all its agents
  loads ctl status --run 4f1c2a --broker nats://10.0.0.2:4222

The run: --run RUN_ID (a cluster run, through the broker: --broker or $LOADS_BROKER, with
loads-cluster's credentials file when present; loads-runner --ping-broker lists the runs), else
the dashboard at --url, else $LOADS_DASHBOARD, else ${DEFAULT_URL}
A cluster run's numbers are the whole run's: scale 300 on 3 agents is 100 users on each.
Exit codes: 0 applied, 1 refused by the run (e.g. nothing to resume, or it is over), 2 bad usage,
no dashboard there, no such run on the broker, or the broker did not answer (within ${BROKER_DEADLINE_MS / 1000} s).
`

export function ctlCommand(io: CliIO): Command {
  const command = new Command('ctl')
    .description('change a run in progress through its dashboard, or a cluster run through the broker: scale, pause, resume, stop')
    .argument('<action>', 'scale, pause, resume, stop or status')
    .argument('[users]', 'scale: the run\'s users from now on')
    .option('--url <url>', `the run's dashboard, as the runner printed it (default: $LOADS_DASHBOARD or ${DEFAULT_URL})`)
    .option('--token <token>', "the dashboard's token (else the URL's ?token=)")
    .option('--rate <runs/s>', 'scale: test runs started per second (open model)', rate)
    .option('--run <run-id>', 'a cluster run, by its id or a unique prefix of it: changed through the broker instead of a dashboard')
  return addBrokerOptions(command, 'broker-', 'nats://127.0.0.1:4222')
    .addHelpText('after', EXAMPLES)
    .action(async (action: string, users: string | undefined, flags: CtlFlags & Record<string, unknown>) => {
      if (flags.run !== undefined) {
        if (flags.url !== undefined) throw new UsageError('--url and --run name two ways to a run: give one (a dashboard URL, or a cluster run id)')
        if (flags.run.trim() === '') throw new UsageError('--run needs a run id (loads-runner --ping-broker lists them)')
        const change = action === 'status' ? undefined : changeOf(action, users, flags.rate)
        return viaBroker(flags.run.trim(), change, flags)
      }
      const base = dashboardUrl(flags.url ?? io.env.LOADS_DASHBOARD ?? DEFAULT_URL)
      const token = flags.token ?? base.searchParams.get('token') ?? undefined
      base.search = ''
      const headers: Record<string, string> = { 'x-loads-by': 'cli', 'content-type': 'application/json', ...(token !== undefined ? { authorization: `Bearer ${token}` } : {}) }
      if (action === 'status') {
        const res = await call(new URL('api/run', base), { headers })
        const body = (await res.json()) as { state?: string; activeUsers?: number; paused?: boolean; pauseState?: string; changes?: ChangeEvent[]; error?: string }
        if (!res.ok) refuse(res.status, body)
        const changes = (body.changes ?? []).map((c) => `${describeChange(c)} by ${c.by}`).join(', ')
        // pauseState: pausing until every worker holds its users (a runner before it says paused only).
        const pause = body.pauseState !== undefined ? (body.pauseState !== 'running' ? ` (${body.pauseState})` : '') : body.paused === true ? ' (paused)' : ''
        io.stdout.write(`${body.state ?? '?'}${pause}, ${body.activeUsers ?? 0} active users${changes !== '' ? `; changes: ${changes}` : ''}\n`)
        return
      }
      const body = action === 'scale' ? scaleBody(users, flags.rate) : undefined
      const change = changeOf(action, users, flags.rate)
      const res = await call(new URL(`api/${action}`, base), { method: 'POST', headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) })
      const answer = (await res.json().catch(() => ({}))) as { error?: string; hint?: string; applied?: ChangeEvent }
      if (!res.ok) refuse(res.status, answer)
      io.stdout.write(`${action === 'stop' ? 'stopping' : describeChange(change)}: applied\n`)
      if (change.action === 'pause' || change.action === 'resume') {
        const pending = await untilInForce(new URL('api/run', base), headers, change.action === 'pause' ? 'paused' : 'running')
        const source = pending.cluster ? 'agent' : 'worker'
        if (pending.count > 0) io.stdout.write(`but ${pending.count} ${source}${pending.count === 1 ? ' has' : 's have'} not ${change.action === 'pause' ? 'paused' : 'resumed'} after ${PAUSE_ACK_WAIT_MS / 1000} s: test runs may still start there until ${pending.count === 1 ? 'it does' : 'they do'} (loads ctl status says when)\n`)
      }
    })

  /**
   * After a pause or resume the dashboard accepted: waits (at most PAUSE_ACK_WAIT_MS) until every
   * worker said it is in force. A dashboard that cannot tell (an older runner, an `--attach`
   * session's) is taken at its word. The change stays applied either way: it is the run's to finish.
   */
  async function untilInForce(url: URL, headers: Record<string, string>, wanted: 'paused' | 'running'): Promise<{ count: number; cluster: boolean }> {
    const endMs = performance.now() + PAUSE_ACK_WAIT_MS
    for (;;) {
      const body = (await call(url, { headers })
        .then((r) => r.json())
        .catch(() => ({}))) as { state?: string; pauseState?: string; pausePending?: number; run?: { mode?: string } }
      const cluster = body.run?.mode === 'cluster'
      // Only the step between asked and in force is waited on (another change meanwhile ends the wait).
      if (body.state !== 'running' || body.pauseState !== (wanted === 'paused' ? 'pausing' : 'resuming')) return { count: 0, cluster }
      if (performance.now() >= endMs) return { count: body.pausePending ?? 0, cluster }
      await new Promise((r) => setTimeout(r, 100))
    }
  }

  /** `--run`: through the broker to the run's runner (or to its agents when none follows it). */
  async function viaBroker(runId: string, change: RunChange | undefined, flags: Record<string, unknown>): Promise<void> {
    const broker = resolveBroker(brokerFlags(flags, 'broker-'), io.env, io.cwd)
    let nc: NatsConnection | undefined
    let timer: NodeJS.Timeout | undefined
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new ClusterError(`the broker at ${broker.servers.join(', ')} did not answer within ${BROKER_DEADLINE_MS / 1000} s`, 'is it overloaded or stopped? loads-runner --ping-broker checks it', 'LOADS_ERR_BROKER_UNREACHABLE')),
        BROKER_DEADLINE_MS,
      )
    })
    const work = async (): Promise<void> => {
      nc = await connectBroker(broker, { name: 'loads ctl', timeoutMs: 5000 })
      const { js, jsm } = await openJetStream(nc)
      const found = await findRun(jsm, runId)
      if ('error' in found) throw new ClusterError(found.error, 'loads-runner --ping-broker lists the runs the broker holds', 'LOADS_ERR_RUN_NOT_FOUND')
      if (change === undefined) {
        const state = await readControlState(jsm, found.runId)
        const changes = await readChanges(js, found.runId, state.last?.index ?? 0)
        const what = state.over ? (state.end?.interrupted === true ? 'interrupted' : 'finished') : `running${state.live.paused ? ' (paused)' : ''}`
        const list = changes.map((c) => `${describeChange(c)} by ${c.by}`).join(', ')
        io.stdout.write(`run ${found.runId}: ${what}, on ${state.meta.agents.length} agents${list !== '' ? `; changes: ${list}` : ''}\n`)
        return
      }
      try {
        await requestChange(nc, js, jsm, found.runId, change, 'cli')
      } catch (err) {
        if (!(err instanceof ControlError)) throw err
        io.stderr.write(`error: run ${found.runId} refused: ${err.message}\n${err.hint !== undefined ? `hint: ${err.hint}\n` : ''}`)
        throw new CliExit(1)
      }
      io.stdout.write(`${change.action === 'stop' ? 'stopping' : describeChange(change)}: applied to run ${found.runId}\n`)
    }
    try {
      await Promise.race([work(), deadline])
    } finally {
      clearTimeout(timer)
      const conn = nc as NatsConnection | undefined
      if (conn !== undefined) await Promise.race([conn.close().catch(() => {}), new Promise((r) => setTimeout(r, 2000))])
    }
  }

  function refuse(status: number, body: { error?: string; hint?: string }): never {
    io.stderr.write(`error: the run refused (HTTP ${status}): ${body.error ?? 'no reason given'}\n${body.hint !== undefined ? `hint: ${body.hint}\n` : ''}`)
    throw new CliExit(status === 401 || status === 403 || status === 404 || status === 421 ? 2 : 1)
  }
}

/** The change a command line asks for, checked as the dashboard's API checks a body. */
function changeOf(action: string, users: string | undefined, rateValue: number | undefined): RunChange {
  const body = action === 'scale' ? scaleBody(users, rateValue) : undefined
  if (action !== 'scale' && (users !== undefined || rateValue !== undefined)) throw new UsageError(`${action} takes no number`)
  const change = parseChange(action, body ?? {})
  if (typeof change === 'string') throw new UsageError(change, 'loads ctl --help')
  return change
}

function scaleBody(users: string | undefined, rateValue: number | undefined): { users: number } | { rate: number } {
  if (rateValue !== undefined) {
    if (users !== undefined) throw new UsageError('scale takes a number of users or --rate, not both')
    return { rate: rateValue }
  }
  if (users === undefined || !/^\d+$/.test(users)) throw new UsageError(`scale expects a number of users (or --rate R): got '${users ?? ''}'`, 'loads ctl scale 200')
  return { users: Number(users) }
}

function dashboardUrl(text: string): URL {
  try {
    const url = new URL(text)
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http')
    if (!url.pathname.endsWith('/')) url.pathname += '/'
    return url
  } catch {
    throw new UsageError(`--url expects the dashboard's http:// URL: got '${text}'`, 'the runner prints it: dashboard: http://127.0.0.1:8088/')
  }
}

async function call(url: URL, init: RequestInit): Promise<Response> {
  try {
    return await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) })
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message
    throw new UsageError(`no dashboard answered at ${url.origin} (${cause})`, 'start the run with --dashboard (or --web), and give its URL: loads ctl … --url http://127.0.0.1:PORT/')
  }
}
