/**
 * The whole-request timeouts of this thread, one timer per distinct timeout length instead of one
 * per request.
 *
 * Every request with a timeout used to set a Node timer when sent and clear it when done: a
 * Timeout object, an async id and two list operations per request, most of them never firing.
 * Here a request joins the list of its timeout length (its deadline: when it was sent plus the
 * timeout). Requests join in the order they are sent, so each list is sorted by deadline, and
 * leaving it is an unlink. One Node timer per list is armed for its first deadline; when it fires
 * it fails every request whose deadline has passed, and is armed again for the next one (a timer
 * armed for a request that finished since fires early, finds the new first deadline still ahead
 * and is re-armed: once per timeout length at most, not once per request).
 *
 * Precision is a timer's own: the timer is armed for the first deadline, and a request is failed
 * only once `performance.now()` has reached its deadline, never before (a Node timer counts from
 * the loop's cached clock and may fire a little early; this re-arms instead). A list with no
 * request left clears its timer, so nothing keeps the process alive after the last request.
 */

/** A request that can time out: the Exchange. */
export interface DeadlineEntry {
  /** @internal performance.now() at which it times out. */
  deadlineMs: number
  /** @internal The list it is in, or null. */
  deadlineList: DeadlineList | null
  /** @internal Neighbours in that list. */
  deadlinePrev: DeadlineEntry | null
  deadlineNext: DeadlineEntry | null
  /** Called once its deadline has passed (it has been taken off its list by then). */
  deadlinePassed(): void
}

/** The requests of one timeout length, in the order they were sent (so by deadline). */
export class DeadlineList {
  #head: DeadlineEntry | null = null
  #tail: DeadlineEntry | null = null
  #timer: NodeJS.Timeout | null = null
  /** The deadline the timer is armed for (ms, performance.now()). */
  #armedFor = 0

  constructor(readonly timeoutMs: number) {}

  /** Starts `entry`'s timeout now (it must not be in a list). */
  add(entry: DeadlineEntry, nowMs: number): void {
    const deadline = nowMs + this.timeoutMs
    entry.deadlineMs = deadline
    entry.deadlineList = this
    entry.deadlineNext = null
    const tail = this.#tail
    entry.deadlinePrev = tail
    if (tail === null) this.#head = entry
    else tail.deadlineNext = entry
    this.#tail = entry
    if (this.#timer === null) this.#arm(deadline, nowMs)
  }

  /** Takes `entry` off the list (its request is done, or sent again). */
  remove(entry: DeadlineEntry): void {
    const prev = entry.deadlinePrev
    const next = entry.deadlineNext
    if (prev === null) this.#head = next
    else prev.deadlineNext = next
    if (next === null) this.#tail = prev
    else next.deadlinePrev = prev
    entry.deadlinePrev = null
    entry.deadlineNext = null
    entry.deadlineList = null
    if (this.#head === null && this.#timer !== null) {
      clearTimeout(this.#timer)
      this.#timer = null
    }
  }

  #arm(deadline: number, nowMs: number): void {
    this.#armedFor = deadline
    this.#timer = setTimeout(onListTimer, Math.max(1, Math.ceil(deadline - nowMs)), this)
  }

  /** @internal The timer fired: fail every request past its deadline, arm for the next one. */
  fire(): void {
    this.#timer = null
    const now = performance.now()
    try {
      for (let entry = this.#head; entry !== null && entry.deadlineMs <= now; entry = this.#head) {
        this.remove(entry)
        entry.deadlinePassed()
      }
    } finally {
      // deadlinePassed may have sent requests or finished them; should one throw, the requests
      // after it still time out. A request sent meanwhile armed the timer for its own deadline,
      // which is later than those of the requests already waiting: armed again for the first.
      const head = this.#head
      if (head !== null && (this.#timer === null || this.#armedFor > head.deadlineMs)) {
        if (this.#timer !== null) clearTimeout(this.#timer)
        this.#arm(head.deadlineMs, performance.now())
      }
    }
  }

  /** No request is in it. */
  get empty(): boolean {
    return this.#head === null
  }

  /** @internal For tests: the deadline the timer is armed for, or null when it is not armed. */
  get armedFor(): number | null {
    return this.#timer === null ? null : this.#armedFor
  }
}

function onListTimer(list: DeadlineList): void {
  list.fire()
}

/**
 * This thread's lists, by timeout length. A run has one or a few; but a test that computes each
 * request's timeout (what is left of a budget) makes a length per request, so empty lists are
 * dropped once there are `MAX_LISTS` (and then only when the count has doubled since the last
 * sweep): memory stays bounded by the lengths in flight, not the hits.
 */
const lists = new Map<number, DeadlineList>()
const MAX_LISTS = 64
let sweepAt = MAX_LISTS
let last: DeadlineList | null = null

/** The list for requests with a timeout of `timeoutMs` (> 0). */
export function deadlineList(timeoutMs: number): DeadlineList {
  if (last !== null && last.timeoutMs === timeoutMs) return last
  let list = lists.get(timeoutMs)
  if (list === undefined) {
    if (lists.size >= sweepAt) dropEmptyLists()
    list = new DeadlineList(timeoutMs)
    lists.set(timeoutMs, list)
  }
  last = list
  return list
}

/** Forgets the lists no request is in (a request keeps its own list, so none is lost). */
function dropEmptyLists(): void {
  for (const [timeoutMs, list] of lists) if (list.empty) lists.delete(timeoutMs)
  if (last !== null && last.empty) last = null
  sweepAt = Math.max(MAX_LISTS, lists.size * 2)
}

/** @internal For tests: how many lists this thread keeps. */
export function deadlineListCount(): number {
  return lists.size
}
