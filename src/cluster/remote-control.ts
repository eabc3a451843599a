/**
 * Live control of a cluster run from another process (docs/live-control.md): `loads ctl --run
 * RUN_ID` and `--attach` sessions. A change goes to the run's runner as a request on the run's
 * ctl subject; the runner checks, applies and records it as its dashboard would, and stores it
 * in the run's stream, where every reader sees it. A run no runner follows (detached, or its
 * runner gone) is changed here instead, from the state its stream holds: the last change
 * record says where the live state stands, the agents' events which step runs.
 */
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream'
import type { NatsConnection, Subscription } from '@nats-io/transport-node'
import type { ChangedBy, ChangeEvent, RunChange } from '../load/control.js'
import { checkChange } from '../runner/run-changes.js'
import { ControlError } from '../runner/live-control.js'
import { ClusterError } from './submit-run.js'
import { decode, encode, streamName, subjects, type AgentEvent, type ControlMessage, type CtlReply, type CtlRequest, type LiveState, type RunChangeRecord, type RunEnd, type RunMeta } from './protocol.js'
import { nextLiveState } from './run-control.js'

/** How long a change waits for the runner's answer, ms: it answers at once unless the broker is stuck. */
export const CTL_REPLY_MS = 10_000

/**
 * The runner's side: answers each change asked on the run's ctl subject with `apply` (the
 * coordinator's checks and record), or with the reason it was refused.
 */
export function serveControl(nc: NatsConnection, runId: string, apply: (change: RunChange, by: ChangedBy) => ChangeEvent): Subscription {
  return nc.subscribe(subjects.ctl(runId), {
    callback: (_err, msg) => {
      const req = decode<CtlRequest>(msg.data)
      if (req?.type !== 'ctl.request' || req.runId !== runId) return
      const base = { type: 'ctl.reply', runId, agentId: null } as const
      let reply: CtlReply
      try {
        reply = { ...base, ok: true, applied: apply(req.change, req.by) }
      } catch (err) {
        const e = err as Error & { status?: number; hint?: string }
        reply = { ...base, ok: false, status: err instanceof ControlError ? e.status! : 500, error: e.message, ...(e.hint !== undefined ? { hint: e.hint } : {}) }
      }
      try {
        msg.respond(encode(reply))
      } catch {
        // Disconnected: the asker times out and says so.
      }
    },
  })
}

/**
 * Asks the run's runner to apply `change`, or applies it here when no runner follows the run.
 * Resolves with the change as recorded; rejects with a ControlError when refused, a
 * ClusterError when nobody answered in time.
 */
export async function requestChange(nc: NatsConnection, js: JetStreamClient, jsm: JetStreamManager, runId: string, change: RunChange, by: ChangedBy): Promise<ChangeEvent> {
  const request: CtlRequest = { type: 'ctl.request', runId, agentId: null, change, by }
  let data: Uint8Array
  try {
    data = (await nc.request(subjects.ctl(runId), encode(request), { timeout: CTL_REPLY_MS })).data
  } catch (err) {
    if ((err as { isNoResponders?: () => boolean }).isNoResponders?.() === true) return applyUnattended(nc, js, jsm, runId, change, by)
    throw new ClusterError(
      `the runner of run ${runId} did not answer within ${CTL_REPLY_MS / 1000} s (${(err as Error).message})`,
      'the broker or the runner may be overloaded: try again; loads ctl status --run shows what was applied',
      'LOADS_ERR_CONTROL_TIMEOUT',
    )
  }
  const reply = decode<CtlReply>(data)
  if (reply?.type !== 'ctl.reply') throw new ClusterError(`the runner of run ${runId} answered something that is not a reply`, undefined, 'LOADS_ERR_CONTROL')
  if (!reply.ok) throw new ControlError(reply.error, reply.status === 400 ? 400 : 409, reply.hint)
  return reply.applied
}

/** What a run's stream says about its live control now. */
export interface ControlState {
  meta: RunMeta
  /** The last change record, if any. */
  last: RunChangeRecord | undefined
  live: LiveState
  /** The plan step the furthest agent is in. */
  step: number
  /** Every agent is done, or the runner wrote the run's end. */
  over: boolean
  end: RunEnd | undefined
}

/** Reads the control state of a run from its stream (a few direct reads, no consumer). */
export async function readControlState(jsm: JetStreamManager, runId: string): Promise<ControlState> {
  const stream = streamName(runId)
  // The message's own subject is checked too: one that has none is not answered with another's.
  const last = async <T extends { type: string }>(subject: string, type: T['type']): Promise<T | undefined> => {
    try {
      const m = await jsm.streams.getMessage(stream, { last_by_subj: subject })
      const message = m?.subject === subject ? decode<T>(m.data) : undefined
      return message?.type === type ? message : undefined
    } catch {
      return undefined
    }
  }
  const meta = await last<RunMeta>(subjects.runMeta(runId), 'run.meta')
  if (meta === undefined) throw new ClusterError(`run ${runId} has no description on the broker yet (still being submitted?)`, 'try again in a moment', 'LOADS_ERR_RUN_NOT_FOUND')
  const [record, end, events] = await Promise.all([
    last<RunChangeRecord>(subjects.runChange(runId), 'run.change'),
    last<RunEnd>(subjects.runEnd(runId), 'run.end'),
    Promise.all(meta.agents.map((a) => last<AgentEvent>(subjects.runEvent(runId, a), 'run.event'))),
  ])
  let step = 0
  let running = 0
  for (const e of events) {
    if (e === undefined || e.event === 'started' || e.event === 'step') running++
    if (e?.event === 'step') step = Math.max(step, e.step)
  }
  return { meta, last: record, live: record?.live ?? { seq: 0, paused: false }, step, over: end !== undefined || running === 0, end }
}

/**
 * A change to a run no runner follows: checked against the state its stream holds, stored (the
 * record's id makes two changes made at once a conflict, not a mix), then sent to its agents
 * on the control channel. Unlike a runner, nobody repeats it with heartbeats: an agent
 * reconnecting at that very moment misses it (docs/live-control.md).
 */
async function applyUnattended(nc: NatsConnection, js: JetStreamClient, jsm: JetStreamManager, runId: string, change: RunChange, by: ChangedBy): Promise<ChangeEvent> {
  const state = await readControlState(jsm, runId)
  if (state.over) throw new ControlError('the run is over')
  checkChange(change, state.meta.plan, state.step, state.live.paused)
  const live =
    change.action === 'stop'
      ? state.live
      : nextLiveState(state.live, change.action === 'scale' ? ('users' in change ? { users: change.users } : { rate: change.rate, offset: 0, stride: 1 }) : change.action === 'pause' ? { pause: true } : { resume: true })
  const event: ChangeEvent = { ...change, atMs: Date.now(), by, step: state.step }
  const index = (state.last?.index ?? 0) + 1
  const record: RunChangeRecord = { type: 'run.change', runId, agentId: null, index, event, live }
  const ack = await js.publish(subjects.runChange(runId), encode(record), { msgID: `change:${index}`, timeout: CTL_REPLY_MS })
  if (ack.duplicate) throw new ControlError('another change was made to this run at the same moment: look (loads ctl status --run) and try again')
  const message: ControlMessage = { type: 'control', runId, agentId: null, action: change.action === 'stop' ? 'stop' : 'heartbeat', live }
  nc.publish(subjects.control(runId), encode(message))
  await nc.flush()
  return event
}

/** Every change record of a run, in order (the first `count`, read through a short-lived consumer). */
export async function readChanges(js: JetStreamClient, runId: string, count: number): Promise<ChangeEvent[]> {
  if (count === 0) return []
  const consumer = await js.consumers.get(streamName(runId), { filter_subjects: subjects.runChange(runId) })
  const out: ChangeEvent[] = []
  const messages = await consumer.fetch({ max_messages: count, expires: CTL_REPLY_MS })
  for await (const m of messages) {
    const record = decode<RunChangeRecord>(m.data)
    if (record?.type === 'run.change') out.push(record.event)
    if (out.length >= count) break
  }
  return out
}
