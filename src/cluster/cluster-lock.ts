/**
 * One cluster per folder: `loads-cluster start` holds `<dir>/cluster.lock` (created exclusively,
 * holding its pid and broker) for as long as it runs. A second start on the same folder would
 * overwrite the first one's credentials and share its JetStream store; it is refused instead,
 * naming the supervisor that runs. A lock whose process is gone (a crash, a SIGKILL) is stale
 * and taken over.
 */
import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs'
import path from 'node:path'
import { UsageError } from '../errors.js'

export interface ClusterLock {
  pid: number
  broker: string
  startedMs: number
}

export function lockPath(dir: string): string {
  return path.join(dir, 'cluster.lock')
}

/** The lock's holder when it is a live process; undefined when free or stale. */
export function lockHolder(dir: string): ClusterLock | undefined {
  let lock: ClusterLock
  try {
    lock = JSON.parse(readFileSync(lockPath(dir), 'utf8')) as ClusterLock
  } catch {
    return undefined
  }
  return typeof lock.pid === 'number' && isSupervisor(lock.pid) ? lock : undefined
}

/** Refuses (exit 2) when a live supervisor holds the folder. */
export function checkClusterLock(dir: string): void {
  const holder = lockHolder(dir)
  if (holder) throw runningError(dir, holder)
}

/** Takes the folder's lock for this process, or says which cluster holds it. */
export function acquireClusterLock(dir: string, broker: string): void {
  const lock: ClusterLock = { pid: process.pid, broker, startedMs: Date.now() }
  for (let attempt = 0; attempt < 2; attempt++) {
    let fd: number
    try {
      fd = openSync(lockPath(dir), 'wx', 0o600)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new UsageError(`cannot create ${lockPath(dir)}: ${(err as Error).message}`, 'use a --dir you can write to', 'LOADS_ERR_CLUSTER_DIR')
      }
      const holder = lockHolder(dir)
      if (holder && holder.pid !== process.pid) throw runningError(dir, holder)
      // Stale (its supervisor is gone): taken over.
      rmSync(lockPath(dir), { force: true })
      continue
    }
    try {
      writeSync(fd, `${JSON.stringify(lock)}\n`)
    } finally {
      closeSync(fd)
    }
    return
  }
  throw new UsageError(`another loads-cluster start is taking ${dir} at the same moment`, 'start one cluster per --dir', 'LOADS_ERR_CLUSTER_RUNNING')
}

/** Removes the lock if this process holds it. */
export function releaseClusterLock(dir: string): void {
  try {
    const lock = JSON.parse(readFileSync(lockPath(dir), 'utf8')) as ClusterLock
    if (lock.pid === process.pid) rmSync(lockPath(dir), { force: true })
  } catch {
    // Not there, or not ours.
  }
}

function runningError(dir: string, holder: ClusterLock): UsageError {
  return new UsageError(
    `a cluster is already running from ${dir}: supervisor pid ${holder.pid}, broker ${holder.broker}, started ${new Date(holder.startedMs).toISOString()}`,
    `stop it with \`loads-cluster stop --dir ${dir}\`, or give this one another --dir (each cluster needs a folder of its own)`,
    'LOADS_ERR_CLUSTER_RUNNING',
  )
}

/**
 * A live process that may be a supervisor: alive, and — where /proc tells — running Node (a pid
 * recycled by an unrelated program after a crash does not hold the folder for ever).
 */
function isSupervisor(pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false
  }
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
    return /node|loads/.test(cmdline)
  } catch {
    return true
  }
}
