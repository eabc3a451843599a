/**
 * Responses settle in a batch after the event loop's I/O phase, not one by one as they are read.
 *
 * A response is timed and recorded the moment its last byte is parsed. Were its promise resolved
 * there, the user's code after `await session.get()` (its assertions, its next request) would run
 * before libuv reads the next socket that is already readable, and every response still waiting
 * in the kernel would be timed late by that code. Resolving them all in one `setImmediate` (the
 * check phase runs right after the poll phase) times each response as it is read, and costs one
 * immediate per loop turn, not one per response.
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
