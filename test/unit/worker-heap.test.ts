import { Worker } from 'node:worker_threads'
import { afterAll, describe, expect, it } from 'vitest'
import { sizeWorkerHeaps, WORKER_INITIAL_OLD_MB } from '../../src/runner/worker-heap.js'

/**
 * A worker that keeps `mb` MB of small objects alive (each survives its scavenges and is
 * promoted to the old generation), then reports how many full (major) collections it ran.
 */
function majorCollections(mb: number): Promise<number> {
  const code = `
    const { parentPort } = require('node:worker_threads')
    const { PerformanceObserver, constants } = require('node:perf_hooks')
    let majors = 0
    const observer = new PerformanceObserver((list) => { for (const e of list.getEntries()) if (e.detail.kind === constants.NODE_PERFORMANCE_GC_MAJOR) majors++ })
    observer.observe({ entryTypes: ['gc'] })
    const kept = []
    // ~56 bytes an object with its array of 4: about ${mb} MB in all.
    for (let i = 0; i < ${mb} * 1024 * 1024 / 72; i++) kept.push([i, i + 1, i + 2, i + 3])
    setTimeout(() => { observer.disconnect(); parentPort.postMessage({ majors, kept: kept.length }) }, 50)
  `
  const worker = new Worker(code, { eval: true })
  return new Promise((resolve, reject) => {
    worker.once('message', (m: { majors: number }) => {
      void worker.terminate()
      resolve(m.majors)
    })
    worker.once('error', reject)
  })
}

describe('the old-generation budget worker threads start with', () => {
  afterAll(() => {
    sizeWorkerHeaps(undefined)
  })

  it('is 96 MB by default, half of a --worker-heap below 192 MB, and at least 1', () => {
    expect(sizeWorkerHeaps(undefined)).toBe(96)
    expect(WORKER_INITIAL_OLD_MB).toBe(96)
    expect(sizeWorkerHeaps(4096)).toBe(96)
    expect(sizeWorkerHeaps(100)).toBe(50)
    expect(sizeWorkerHeaps(1)).toBe(1)
  })

  it('lets a worker created afterwards keep 48 MB alive without a full collection; a 16 MB budget does not', async () => {
    sizeWorkerHeaps(undefined)
    expect(await majorCollections(48)).toBe(0)
    sizeWorkerHeaps(32)
    expect(await majorCollections(48)).toBeGreaterThanOrEqual(1)
  })
})
