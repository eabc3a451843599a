import type { JetStreamClient } from '@nats-io/jetstream'
import { encode, type Undelivered } from './protocol.js'
import { addCarried, type Carried } from './snapshot-split.js'

interface Pending {
  subject: string
  data: Uint8Array
  /** JetStream's de-duplication id: a retry after a lost ack is stored once. */
  msgId: string
  /** What it carries (a snapshot's hits, test runs …), counted as undelivered if it is dropped. */
  carries: Carried | undefined
}

/** How long storing may keep failing (broker down, stream gone) before what waits is given up. */
const GIVE_UP_AFTER_MS = 120_000
const RETRY_DELAY_MS = 250
const ACK_TIMEOUT_MS = 2000

/**
 * Publishes to JetStream one message at a time, in order, each until the broker acknowledged it
 * (stored): a broker restart delays snapshots but loses none, and a retry whose first attempt was
 * stored after all is dropped by the stream's de-duplication (the message id), then by the
 * aggregator (source + seq). In order matters: an agent's `finished` event is stored after its
 * last snapshot, so whoever reads it has every snapshot before it.
 */
export class Outbox {
  readonly #queue: Pending[] = []
  #running = false
  #idle: (() => void)[] = []
  #dropped = 0
  readonly #undelivered: Undelivered = { messages: 0, hits: 0, testsRun: 0 }
  /** Since when every attempt failed; undefined while stores succeed. */
  #failingSinceMs: number | undefined

  constructor(
    private readonly js: JetStreamClient,
    private readonly log: (line: string) => void = () => {},
    private readonly now: () => number = Date.now,
  ) {}

  /** Messages given up on: refused as too large, or storing failed for two minutes. */
  get dropped(): number {
    return this.#dropped
  }

  /** What the dropped messages carried, since this outbox was made (a copy). */
  get undelivered(): Undelivered {
    return { ...this.#undelivered }
  }

  get pending(): number {
    return this.#queue.length
  }

  push(subject: string, message: unknown, msgId: string): void {
    this.pushEncoded(subject, encode(message), msgId)
  }

  /** As `push`, for a message encoded already (the caller checked its size), with what it carries. */
  pushEncoded(subject: string, data: Uint8Array, msgId: string, carries?: Carried): void {
    this.#queue.push({ subject, data, msgId, carries })
    if (!this.#running) void this.#drain()
  }

  /** Resolves once every message pushed so far is stored (or given up), or after `timeoutMs`. */
  flushed(timeoutMs = Number.POSITIVE_INFINITY): Promise<void> {
    if (this.#queue.length === 0 && !this.#running) return Promise.resolve()
    return new Promise((resolve) => {
      const timer = Number.isFinite(timeoutMs) ? setTimeout(resolve, timeoutMs) : undefined
      this.#idle.push(() => {
        clearTimeout(timer)
        resolve()
      })
    })
  }

  async #drain(): Promise<void> {
    this.#running = true
    while (this.#queue.length > 0) {
      const head = this.#queue[0]!
      try {
        await this.js.publish(head.subject, head.data, { msgID: head.msgId, timeout: ACK_TIMEOUT_MS })
        this.#queue.shift()
        this.#failingSinceMs = undefined
      } catch (err) {
        // Over the broker's max_payload: refused for ever, so dropped at once, never retried: it
        // must not hold back what is queued behind it (the agent's `finished` event among them).
        if (isTooLarge(err)) {
          this.#queue.shift()
          this.#drop([head])
          this.log(`a message of ${head.data.length} bytes is over the broker's max_payload: dropped${head.carries ? ` with ${head.carries.hits} hits` : ''}`)
          continue
        }
        const now = this.now()
        this.#failingSinceMs ??= now
        if (now - this.#failingSinceMs > GIVE_UP_AFTER_MS) {
          const lost = this.#queue.splice(0)
          this.#drop(lost)
          this.log(`could not store anything for ${GIVE_UP_AFTER_MS / 1000} s (${(err as Error).message}): ${lost.length} messages dropped`)
        } else {
          await new Promise((r) => setTimeout(r, RETRY_DELAY_MS))
        }
      }
    }
    this.#running = false
    const idle = this.#idle
    this.#idle = []
    for (const resolve of idle) resolve()
  }

  #drop(lost: Pending[]): void {
    this.#dropped += lost.length
    for (const p of lost) {
      if (p.carries === undefined) continue
      this.#undelivered.messages++
      addCarried(this.#undelivered, p.carries)
    }
  }
}

/** The NATS client's refusal of a payload over the server's max_payload (it checks before sending). */
function isTooLarge(err: unknown): boolean {
  return err instanceof Error && /max_payload/i.test(err.message)
}
