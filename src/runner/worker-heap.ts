import v8 from 'node:v8'

/**
 * The old generation a worker thread may fill before its first full (mark-compact) collection,
 * MB. V8 starts a worker isolate with a small budget and grows it from what survives each full
 * collection; a worker's load is mostly short-lived objects that outlive a scavenge or two (calls
 * in flight), so with the default budget it ran a full collection every ~200 ms at 35 MB in the
 * gRPC benchmark, where a bare client on the main thread ran one every ~600 ms at 60 MB, and the
 * concurrent marking (on V8's helper threads, invisible in a CPU profile of the worker) cost it
 * ~45 µs per call against ~9. A larger starting budget costs resident memory only while
 * garbage waits for that collection.
 */
export const WORKER_INITIAL_OLD_MB = 96

/**
 * Sets the starting old-generation budget of the worker isolates this process creates from now
 * on (a V8 flag: process-wide, read when an isolate is created; the running isolates keep
 * theirs). Half of `--worker-heap` at most, so a small limit still leaves room to grow.
 */
export function sizeWorkerHeaps(maxOldMb: number | undefined): number {
  const mb = maxOldMb === undefined ? WORKER_INITIAL_OLD_MB : Math.max(1, Math.min(WORKER_INITIAL_OLD_MB, Math.floor(maxOldMb / 2)))
  v8.setFlagsFromString(`--initial-old-space-size=${mb}`)
  return mb
}
