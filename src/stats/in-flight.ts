/**
 * Requests in flight in one worker, by when they started, so a snapshot can say how old the
 * oldest one is: a stalled server shows as a growing age while no hit completes (and the latency
 * chart has nothing to draw). Called twice per request on the hot path, so it only counts into
 * a ring of 100 ms buckets: no allocation, no search. The age is exact to a bucket (100 ms).
 */

/** Width of a bucket, ms. */
export const IN_FLIGHT_BUCKET_MS = 100
/** Buckets in the ring: requests older than this many buckets (~102 s) are counted apart. */
const SLOTS = 1024
const MASK = SLOTS - 1

export class InFlight {
  /** The bucket number (time / 100 ms) each slot counts for; -1 when unused. */
  readonly #bucketOf = new Float64Array(SLOTS).fill(-1)
  readonly #count = new Int32Array(SLOTS)
  /** Requests whose slot was reused while they were still in flight (older than the ring). */
  #stale = 0
  #staleOldestBucket = -1
  /** Lower bound of the oldest bucket that may still count (buckets below it are all zero). */
  #low = -1

  /**
   * A request started at `nowMs` (performance.now()); returns the token to give `end()`.
   */
  start(nowMs: number): number {
    const bucket = Math.floor(nowMs / IN_FLIGHT_BUCKET_MS)
    const slot = bucket & MASK
    if (this.#bucketOf[slot] !== bucket) {
      const left = this.#count[slot]!
      if (left > 0) {
        // A request still in flight after the ring went round: keep it, apart.
        const old = this.#bucketOf[slot]!
        this.#stale += left
        if (this.#staleOldestBucket < 0 || old < this.#staleOldestBucket) this.#staleOldestBucket = old
      }
      this.#bucketOf[slot] = bucket
      this.#count[slot] = 0
    }
    this.#count[slot]!++
    if (this.#low < 0) this.#low = bucket
    return bucket
  }

  /** The request started with `token` ended (answered, failed or aborted). */
  end(token: number): void {
    const slot = token & MASK
    if (this.#bucketOf[slot] === token && this.#count[slot]! > 0) {
      this.#count[slot]!--
    } else if (this.#stale > 0) {
      if (--this.#stale === 0) this.#staleOldestBucket = -1
    }
  }

  /**
   * How long the oldest request still in flight has been going at `nowMs` (performance.now()),
   * ms, to the bucket; 0 when none is in flight. Walks the buckets since the oldest one that may
   * still count: called once a second, not per request.
   */
  oldestAgeMs(nowMs: number): number {
    if (this.#stale > 0) return Math.max(0, nowMs - this.#staleOldestBucket * IN_FLIGHT_BUCKET_MS)
    if (this.#low < 0) return 0
    const now = Math.floor(nowMs / IN_FLIGHT_BUCKET_MS)
    let b = Math.max(this.#low, now - MASK)
    for (; b <= now; b++) {
      const slot = b & MASK
      if (this.#bucketOf[slot] === b && this.#count[slot]! > 0) break
    }
    // Not past `now`: a request may still start in the current bucket.
    this.#low = Math.min(b, now)
    return b > now ? 0 : Math.max(0, nowMs - b * IN_FLIGHT_BUCKET_MS)
  }
}
