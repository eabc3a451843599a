/**
 * The cluster's wire protocol: versioned subjects and the messages that travel on them. Every
 * message is JSON — except agents' snapshots, binary for the runner's sake (snapshot-codec.ts) —
 * and carries `type`, `runId` and `agentId` (null where there is none), so a message read from a
 * stream or a log says what it is and whose it is.
 *
 * Core NATS (fire and forget): agent heartbeats, runner heartbeats and stop/detach orders,
 * pings. JetStream (stored, one stream per run): the run's description, every snapshot, every
 * agent event and the end. What is stored is what `--attach` replays.
 */
import { createRequire } from 'node:module'
import type { ChangedBy, ChangeEvent, RunChange } from '../load/control.js'
import type { Plan } from '../load/plan.js'
import type { RunConfig } from '../load/run-config.js'
import type { Snapshot, Undelivered } from '../stats/types.js'
import { decodeSnapshotMessage, encodeSnapshotMessage, isBinarySnapshot } from './snapshot-codec.js'

/** Protocol version, in every subject: a runner and an agent of different protocols never meet. */
export const PROTOCOL = 'v1'

export type { Undelivered }
const P = `loads.${PROTOCOL}`

/** The version of Loads this process runs; agents and runners must match it exactly. */
export const LOADS_VERSION: string = (createRequire(import.meta.url)('../../package.json') as { version: string }).version

export const subjects = {
  /** Request-many to every agent: each replies with its AgentInfo. */
  ping: `${P}.agents.ping`,
  /** Request-many to every agent: stop whatever you run. */
  purge: `${P}.agents.purge`,
  /** An agent's heartbeat, every second. */
  heartbeat: (agentId: string): string => `${P}.agents.heartbeat.${agentId}`,
  allHeartbeats: `${P}.agents.heartbeat.*`,
  /**
   * Request to one agent: run this. Subscribed for as long as the agent is connected, so a
   * request that finds no responder here says its connection to the broker is closed.
   */
  runRequest: (agentId: string): string => `${P}.agent.${agentId}.run`,
  /** Runner → the agents of a run: heartbeats, stop, detach. */
  control: (runId: string): string => `${P}.control.${runId}`,
  /** `loads ctl --run` and `--attach` sessions → the runner of a run: a live change (request-reply). */
  ctl: (runId: string): string => `${P}.ctl.${runId}`,
  /** Agent → runner: one chunk of a bundle too large for the run request. */
  bundle: (runId: string): string => `${P}.bundle.${runId}`,
  /** The stored subjects of a run (its stream captures `run(runId).>`). */
  run: (runId: string): string => `${P}.run.${runId}`,
  runMeta: (runId: string): string => `${P}.run.${runId}.meta`,
  runSnapshot: (runId: string, agentId: string): string => `${P}.run.${runId}.snapshot.${agentId}`,
  runEvent: (runId: string, agentId: string): string => `${P}.run.${runId}.event.${agentId}`,
  runEnd: (runId: string): string => `${P}.run.${runId}.end`,
  /** Each live change, as applied (docs/live-control.md). */
  runChange: (runId: string): string => `${P}.run.${runId}.change`,
} as const

/** The JetStream stream holding one run. */
export const STREAM_PREFIX = 'LOADS_RUN_'
export function streamName(runId: string): string {
  return `${STREAM_PREFIX}${runId}`
}

/** Heartbeats both ways, and how long a silence means the other side is gone. */
export const HEARTBEAT_MS = 1000
/**
 * An agent not heard for this long (while we are connected) is silent: lost at once if its
 * connection to the broker is closed, else waited for up to `AGENT_WAIT_MS`. A runner not heard
 * for this long is lost to its agents.
 */
export const SILENCE_LIMIT_MS = 3000
/**
 * How long a runner waits for a silent agent whose connection to the broker is still open
 * (frozen, or starved by a loaded host) before giving up on it, counted from its last heartbeat.
 * As long as an agent cut off from the broker takes to stop its load on its own.
 */
export const AGENT_WAIT_MS = 15_000
/** After our own reconnect, peers get this long to be heard again before they count as silent. */
export const RECONNECT_GRACE_MS = 5000
/** An agent that cannot reach the broker for this long stops the load: its controller is unreachable. */
export const BROKER_LOSS_LIMIT_MS = 15_000

/** Agent ids become subject tokens: only letters, digits, `-` and `_`. */
export function safeToken(text: string): string {
  return text.replace(/[^A-Za-z0-9_-]/g, '_')
}

export type AgentState = 'idle' | 'running' | 'stopping'

/** What an agent says about itself, in heartbeats and ping replies. */
export interface AgentInfo {
  agentId: string
  host: string
  pid: number
  /** Loads version. */
  version: string
  cores: number
  /** Worker threads it runs a plan on. */
  workers: number
  state: AgentState
  /** The run it is busy with. */
  runId: string | null
  /** The test address of that run. */
  address: string | null
  startedMs: number
}

export interface AgentHeartbeat {
  type: 'agent.heartbeat'
  runId: string | null
  agentId: string
  info: AgentInfo
}

export interface PingReply {
  type: 'agent.info'
  runId: string | null
  agentId: string
  info: AgentInfo
}

export interface PurgeReply {
  type: 'purge.reply'
  runId: string | null
  agentId: string
}

/** The test as the agent receives it: the bundle inline, or in `chunks` fetched from the runner. */
export interface BundleRef {
  hash: string
  /** Bytes of the UTF-8 code. */
  size: number
  /** Absolute path of the entry on the runner's machine (for messages and source maps). */
  entry: string
  code?: string
  chunks: number
}

export interface RunRequest {
  type: 'run.request'
  runId: string
  agentId: string
  /** The runner's Loads version; an agent of another version refuses. */
  version: string
  address: string
  config: RunConfig
  plan: Plan
  /** Worker threads, when the runner was told (`-w`); else the agent decides. */
  workers: number | null
  /** Expect runner heartbeats and stop without them; false for a detached run. */
  supervised: boolean
  bundle: BundleRef
}

export type RunReply =
  | { type: 'run.reply'; runId: string; agentId: string; ok: true }
  | { type: 'run.reply'; runId: string; agentId: string; ok: false; code: string; message: string; detail: string }

export interface BundleChunkRequest {
  type: 'bundle.chunk'
  runId: string
  agentId: string
  index: number
}

/** Runner → agents of a run. */
export interface ControlMessage {
  type: 'control'
  runId: string
  agentId: null
  /** heartbeat: I am here. stop: stop gracefully. detach: go on without my heartbeats. */
  action: 'heartbeat' | 'stop' | 'detach'
  /**
   * Live control (docs/live-control.md): the run's changes so far, repeated with every heartbeat
   * so an agent that missed one (reconnecting) still applies it. `users` and `rate` are the whole
   * run's, which each agent splits by its slot exactly as the runner would.
   */
  live?: LiveState
}

/** The latest live changes of a run: applied by an agent once per `seq`. */
export interface LiveState {
  /** Bumped by each change. */
  seq: number
  /** The last scale, if any (with the seq it came in: an older one is not applied again). */
  scale?: { seq: number; users: number } | { seq: number; rate: number }
  paused: boolean
}

/** A live change asked of a run from elsewhere: `loads ctl --run`, an `--attach` session. */
export interface CtlRequest {
  type: 'ctl.request'
  runId: string
  agentId: null
  change: RunChange
  by: ChangedBy
}

/** The answer of whoever controls the run: the change as recorded, or why it was refused (`status` as the dashboard's API would say). */
export type CtlReply =
  | { type: 'ctl.reply'; runId: string; agentId: null; ok: true; applied: ChangeEvent }
  | { type: 'ctl.reply'; runId: string; agentId: null; ok: false; status: number; error: string; hint?: string }

/**
 * A live change as applied, stored in the run's stream so that every reader — `--attach`, the
 * runner's outputs, `loads ctl status` — sees the same list. `index` counts the run's changes
 * from 1; `live` is the state the agents were sent with it (so whoever controls the run next
 * goes on from there).
 */
export interface RunChangeRecord {
  type: 'run.change'
  runId: string
  agentId: null
  index: number
  event: ChangeEvent
  live: LiveState
}

/** The first record of a run's stream: what it is. */
export interface RunMeta {
  type: 'run.meta'
  runId: string
  agentId: null
  address: string
  plan: Plan
  config: RunConfig
  /** The agents the run was sent to. */
  agents: string[]
  startMs: number
  version: string
  detached: boolean
}

export interface SnapshotMessage {
  type: 'run.snapshot'
  runId: string
  agentId: string
  snapshot: Snapshot
}

/** Why an agent's run ended. */
export type FinishReason = 'done' | 'stopped' | 'runner-lost' | 'broker-lost' | 'purged' | 'shutdown'

export type AgentEvent =
  | { type: 'run.event'; runId: string; agentId: string; event: 'started'; atMs: number; workers: number }
  | { type: 'run.event'; runId: string; agentId: string; event: 'step'; atMs: number; step: number }
  /**
   * `notes`: what the agent's engine has to say (a worker crashed, stuck, out of memory: with its kind).
   * `undelivered`: what it counted but could not store (absent when nothing was lost).
   */
  | { type: 'run.event'; runId: string; agentId: string; event: 'finished'; atMs: number; reason: FinishReason; notes?: string[]; undelivered?: Undelivered }
  | { type: 'run.event'; runId: string; agentId: string; event: 'failed'; atMs: number; message: string; detail: string }
  /**
   * Written by the runner about an agent it gave up on (stored so `--attach` tells the same story).
   * `connection`: whether the broker still held its connection then (`open`: frozen or starved).
   */
  | { type: 'run.event'; runId: string; agentId: string; event: 'lost'; atMs: number; silentMs: number; connection?: 'open' | 'closed' }
  | { type: 'run.event'; runId: string; agentId: string; event: 'refused'; atMs: number; code: string; message: string; detail: string }

/** The last record of a run, written by the runner that followed it to the end. */
export interface RunEnd {
  type: 'run.end'
  runId: string
  agentId: null
  interrupted: boolean
  partial: boolean
  endMs: number
}

export type StoredMessage = RunMeta | SnapshotMessage | AgentEvent | RunEnd | RunChangeRecord

const encoder = new TextEncoder()
const decoder = new TextDecoder()

/** A message as it travels: JSON, except agents' snapshots (binary: see snapshot-codec.ts). */
export function encode(message: unknown): Uint8Array {
  if ((message as { type?: unknown } | null)?.type === 'run.snapshot') return encodeSnapshotMessage(message as SnapshotMessage)
  return encoder.encode(JSON.stringify(message))
}

/** Parses a message; undefined for anything that is not one of ours (a JSON object with a string `type`, or a binary snapshot). */
export function decode<T extends { type: string }>(data: Uint8Array): T | undefined {
  if (isBinarySnapshot(data)) return decodeSnapshotMessage(data) as T | undefined
  try {
    const value = JSON.parse(decoder.decode(data)) as unknown
    if (typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string') return value as T
  } catch {
    // Not ours (or corrupt): ignored by the caller.
  }
  return undefined
}
