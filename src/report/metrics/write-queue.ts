/**
 * The bounded queue between a metrics output and its backend. The load never waits on it: a
 * write is handed over and forgotten; one write is in flight at a time (remote write must arrive
 * in time order), a failed one is retried with a short backoff, and what cannot be written —
 * the queue full, a backend that refuses, retries used up, the run over — is dropped and counted.
 * Every payload carries cumulative figures, so a dropped write loses a point of the graph, never
 * a count: the next one that lands holds the totals.
 */

/** A write the backend refused; `retryable` for a network error, 429 or 5xx. */
export class WriteError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
  ) {
    super(message)
  }
}

export interface WriteQueueOptions {
  /** Payloads waiting at most; past this the oldest waiting one is dropped. Default 30. */
  capacity?: number
  /** Tries per payload, the first included. Default 3. */
  attempts?: number
  /** Wait before the first retry, doubled each time, ms. Default 200. */
  backoffMs?: number
}

export interface WriteStats {
  /** Payloads the backend accepted. */
  written: number
  /** Payloads given up on (queue full, refused, retries used up, run over). */
  dropped: number
  /** Failed tries, retried or not. */
  failedTries: number
  /** The latest error, as the backend or the network said it (no credentials in it). */
  lastError?: string
}

export class WriteQueue<T> {
  readonly #send: (payload: T, signal: AbortSignal) => Promise<void>
  /** Aborted by `close` at its deadline: the write in flight then fails at once. */
  readonly #abort = new AbortController()
  readonly #capacity: number
  readonly #attempts: number
  readonly #backoffMs: number
  readonly #waiting: T[] = []
  readonly #stats: WriteStats = { written: 0, dropped: 0, failedTries: 0 }
  #running: Promise<void> | undefined
  #closed = false
  #backoffTimer: { timer: NodeJS.Timeout; wake: () => void } | undefined

  constructor(send: (payload: T, signal: AbortSignal) => Promise<void>, opts: WriteQueueOptions = {}) {
    this.#send = send
    this.#capacity = opts.capacity ?? 30
    this.#attempts = opts.attempts ?? 3
    this.#backoffMs = opts.backoffMs ?? 200
  }

  get stats(): WriteStats {
    return { ...this.#stats }
  }

  /** Queues a payload; returns at once. */
  push(payload: T): void {
    if (this.#closed) {
      this.#stats.dropped++
      return
    }
    this.#waiting.push(payload)
    if (this.#waiting.length > this.#capacity) {
      this.#waiting.shift()
      this.#stats.dropped++
    }
    this.#running ??= this.#drain().finally(() => {
      this.#running = undefined
    })
  }

  /**
   * Waits for everything queued to be written, for at most `timeoutMs`; what is still waiting
   * then is dropped, and the write in flight is aborted (and dropped). Nothing is sent afterwards.
   */
  async close(timeoutMs: number): Promise<WriteStats> {
    let timer: NodeJS.Timeout | undefined
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs)
    })
    await Promise.race([this.#running ?? Promise.resolve(), deadline])
    clearTimeout(timer)
    this.#closed = true
    this.#stats.dropped += this.#waiting.length
    this.#waiting.length = 0
    if (this.#backoffTimer !== undefined) {
      clearTimeout(this.#backoffTimer.timer)
      this.#backoffTimer.wake()
    }
    this.#abort.abort(new WriteError('the run is over', false))
    await this.#running
    return this.stats
  }

  async #drain(): Promise<void> {
    for (let payload = this.#waiting.shift(); payload !== undefined; payload = this.#waiting.shift()) {
      await this.#write(payload)
    }
  }

  async #write(payload: T): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#send(payload, this.#abort.signal)
        this.#stats.written++
        return
      } catch (err) {
        this.#stats.failedTries++
        this.#stats.lastError = (err as Error).message
        const retryable = !(err instanceof WriteError) || err.retryable
        if (!retryable || attempt >= this.#attempts || this.#closed) {
          this.#stats.dropped++
          return
        }
        await this.#sleep(this.#backoffMs * 2 ** (attempt - 1))
        if (this.#closed) {
          this.#stats.dropped++
          return
        }
      }
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#backoffTimer = undefined
        resolve()
      }, ms)
      timer.unref()
      this.#backoffTimer = { timer, wake: resolve }
    })
  }
}

/** POSTs `body`; a network error, 429 or 5xx is retryable, another status is not. */
export async function postOrThrow(url: string, init: { headers: Record<string, string>; body: Uint8Array | string }, timeoutMs: number, signal: AbortSignal): Promise<void> {
  let res: Response
  try {
    res = await fetch(url, { method: 'POST', headers: init.headers, body: init.body, signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]) })
  } catch (err) {
    if (signal.aborted) throw signal.reason as Error
    const cause = (err as { cause?: { code?: string; message?: string } }).cause
    throw new WriteError(cause?.code ?? cause?.message ?? (err as Error).message, true)
  }
  if (res.ok) {
    await res.arrayBuffer().catch(() => undefined)
    return
  }
  const text = (await res.text().catch(() => '')).trim().slice(0, 200)
  throw new WriteError(`HTTP ${res.status}${text !== '' ? `: ${text}` : ''}`, res.status === 429 || res.status >= 500)
}
