/**
 * Requests settle in a batch after the event loop's I/O phase, not one by one as they are read.
 *
 * A response (or a failure) is timed and recorded the moment it is read. Were its promise settled
 * there, the user's code after `await session.get()` (its assertions or its `catch`, its next
 * request) would run before libuv reads the next socket that is already readable, and every
 * response still waiting in the kernel would be timed late by that code. Settling them all in
 * one `setImmediate` (the check phase runs right after the poll phase) times each response as it
 * is read, costs one immediate per loop turn, not one per response, and sends the users' next
 * requests together, which the server handles with fewer wake-ups.
 */
let queue: unknown[] = []
let spare: unknown[] = []
let scheduled = false

/** Calls `settle(value)` once the current I/O phase is over. */
export function settleAfterIo<T>(settle: (value: T) => void, value: T): void {
  queue.push(settle, value)
  if (!scheduled) {
    scheduled = true
    setImmediate(flush)
  }
}

function flush(): void {
  scheduled = false
  const batch = queue
  queue = spare
  spare = batch
  for (let i = 0; i < batch.length; i += 2) (batch[i] as (value: unknown) => void)(batch[i + 1])
  batch.length = 0
}
