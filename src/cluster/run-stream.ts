/**
 * One JetStream stream per run: its description, every snapshot, every agent event, its end.
 * File storage, so a broker restart loses nothing; kept a week, so `--attach` can replay a run
 * that finished while nobody watched.
 */
import type { ConsumerMessages, JetStreamClient, JetStreamManager } from '@nats-io/jetstream'
import { LoadsError } from '../errors.js'
import { natsClient } from './nats-client.js'
import { decode, STREAM_PREFIX, streamName, subjects, type RunEnd, type RunMeta, type StoredMessage } from './protocol.js'

const MS = 1_000_000
/** How long a run's results stay on the broker. */
export const RUN_RETENTION_MS = 7 * 24 * 3600 * 1000
/** JetStream drops a message id seen again within this window (retries after a lost ack). */
const DUPLICATE_WINDOW_MS = 5 * 60 * 1000

export async function createRunStream(jsm: JetStreamManager, runId: string, replicas = 1): Promise<void> {
  try {
    await addRunStream(jsm, runId, replicas)
  } catch (err) {
    const message = (err as Error).message
    // "replicas > 1 not supported in non-clustered mode", "insufficient resources" …: the broker's words.
    if (replicas > 1 && /replica|clustered|insufficient|peers/i.test(message)) {
      throw new LoadsError('LOADS_ERR_STREAM_REPLICAS', `the broker cannot keep ${replicas} copies of the run's results: ${message}`, {
        hint: `--stream-replicas ${replicas} needs a NATS cluster of at least ${replicas} JetStream servers; a single broker (loads-cluster's) keeps 1 — leave the flag out`,
      })
    }
    throw new LoadsError('LOADS_ERR_STREAM', `the broker refused to store the run's results: ${message}`, {
      hint: 'check its JetStream limits (disk, max streams) in its log',
    })
  }
}

function addRunStream(jsm: JetStreamManager, runId: string, replicas: number): Promise<unknown> {
  return jsm.streams.add({
    name: streamName(runId),
    subjects: [`${subjects.run(runId)}.>`],
    storage: natsClient().jetstream.StorageType.File,
    max_age: RUN_RETENTION_MS * MS,
    duplicate_window: DUPLICATE_WINDOW_MS * MS,
    num_replicas: replicas,
  })
}

/** A run stored on the broker, as `--ping-broker` and `--attach` list them. */
export interface StoredRun {
  runId: string
  meta: RunMeta | undefined
  end: RunEnd | undefined
  createdMs: number
  messages: number
}

/**
 * Every run the broker holds, newest first; the description and end records are read for the
 * `describe` newest ones only (two requests a run: a week of runs would make a slow listing).
 */
export async function listRuns(jsm: JetStreamManager, describe = Number.POSITIVE_INFINITY): Promise<StoredRun[]> {
  const runs: StoredRun[] = []
  for await (const info of jsm.streams.list()) {
    const name = info.config.name
    if (!name.startsWith(STREAM_PREFIX)) continue
    runs.push({ runId: name.slice(STREAM_PREFIX.length), meta: undefined, end: undefined, createdMs: Date.parse(info.created), messages: info.state.messages })
  }
  runs.sort((a, b) => b.createdMs - a.createdMs)
  await Promise.all(runs.slice(0, describe).map((r) => describeRun(jsm, r)))
  return runs
}

async function describeRun(jsm: JetStreamManager, run: StoredRun): Promise<void> {
  const name = streamName(run.runId)
  run.meta = await lastOf<RunMeta>(jsm, name, subjects.runMeta(run.runId))
  run.end = await lastOf<RunEnd>(jsm, name, subjects.runEnd(run.runId))
}

async function lastOf<T extends { type: string }>(jsm: JetStreamManager, stream: string, subject: string): Promise<T | undefined> {
  try {
    const m = await jsm.streams.getMessage(stream, { last_by_subj: subject })
    return m ? decode<T>(m.data) : undefined
  } catch {
    return undefined
  }
}

/**
 * Reads a run's stream from its first message, live, through an ordered consumer: in stream
 * order, each message once, and across broker restarts (the consumer is recreated where it
 * stopped). The same reader serves a live run and `--attach`.
 */
export class RunReader {
  #messages: ConsumerMessages | undefined
  #seq = 0
  #waiters: { seq: number; resolve: () => void }[] = []
  #stopped = false

  constructor(
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    readonly runId: string,
  ) {}

  /** Starts delivering every stored message, then every new one, to `onMessage`. */
  async start(onMessage: (message: StoredMessage, seq: number) => void): Promise<void> {
    const consumer = await this.js.consumers.get(streamName(this.runId), { deliver_policy: natsClient().jetstream.DeliverPolicy.All })
    // Short heartbeats: after a broker restart the consumer is noticed gone and recreated in ~2 s.
    const messages = await consumer.consume({ expires: 2000, idle_heartbeat: 1000, max_messages: 256 })
    this.#messages = messages
    void (async () => {
      for await (const m of messages) {
        const message = decode<StoredMessage>(m.data)
        this.#seq = Math.max(this.#seq, m.seq)
        if (message) onMessage(message, m.seq)
        this.#waiters = this.#waiters.filter((w) => (w.seq <= this.#seq ? (w.resolve(), false) : true))
      }
    })()
  }

  /** Resolves once every message stored before the call was delivered (or after `timeoutMs`). */
  async caughtUp(timeoutMs = 10_000): Promise<boolean> {
    let last: number
    try {
      last = (await this.jsm.streams.info(streamName(this.runId))).state.last_seq
    } catch {
      return false
    }
    if (last <= this.#seq || this.#stopped) return true
    let timer: NodeJS.Timeout | undefined
    const reached = new Promise<boolean>((resolve) => this.#waiters.push({ seq: last, resolve: () => resolve(true) }))
    const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)))
    const ok = await Promise.race([reached, timeout])
    clearTimeout(timer)
    return ok
  }

  stop(): void {
    this.#stopped = true
    void this.#messages?.close()
    for (const w of this.#waiters) w.resolve()
    this.#waiters = []
  }
}

/** Finds a stored run by id or unique id prefix; the newest when none is given. */
export async function findRun(jsm: JetStreamManager, idOrPrefix: string | undefined): Promise<StoredRun | { error: string }> {
  const runs = await listRuns(jsm, 0)
  if (runs.length === 0) return { error: 'the broker holds no run' }
  const found = idOrPrefix === undefined ? runs[0]! : runs.find((r) => r.runId === idOrPrefix) ?? onlyMatch(runs, idOrPrefix)
  if (found !== undefined) {
    await describeRun(jsm, found)
    return found
  }
  const matches = runs.filter((r) => r.runId.startsWith(idOrPrefix!))
  if (matches.length === 0) return { error: `no run ${idOrPrefix} on the broker (it holds ${runs.length}: the newest is ${runs[0]!.runId})` }
  return { error: `${idOrPrefix} matches ${matches.length} runs: ${matches.map((r) => r.runId).join(', ')}` }
}

function onlyMatch(runs: StoredRun[], prefix: string): StoredRun | undefined {
  const matches = runs.filter((r) => r.runId.startsWith(prefix))
  return matches.length === 1 ? matches[0] : undefined
}
