/**
 * bench/accuracy-split.mjs's TestCase: the bench's GET, and for every hit the times that tell
 * where its latency went, from the C delay server's x-arrived-ns / x-sent-ns headers (its
 * "stamps" mode; CLOCK_MONOTONIC, the clock performance.now() reads too). Written, with the
 * worker's GC pauses, to $LOADS_SPLIT_OUT when the worker ends. Reading the two headers costs
 * each hit a little more than the bench's own TestCase does.
 */
import { writeFileSync } from 'node:fs'
import { PerformanceObserver } from 'node:perf_hooks'
import { TestCase } from 'loads-runner'

const FIELDS = 5
const MAX_HITS = 1_000_000
const rows = new Float64Array(MAX_HITS * FIELDS)
let hits = 0
const gcs: number[] = []
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) gcs.push(e.startTime, e.duration)
}).observe({ entryTypes: ['gc'] })
// performance.now() is CLOCK_MONOTONIC from an origin: the offset turns the server's stamps into it.
performance.now()
const offsetMs = Number(process.hrtime.bigint()) / 1e6 - performance.now()

export class Split extends TestCase {
  async test_index() {
    const res = await this.session.get('/')
    const end = performance.now()
    this.assertTrue(res.content.includes('loads-bench-ok'))
    if (hits < MAX_HITS) {
      const i = hits++ * FIELDS
      rows[i] = end - res.totalUs / 1000 // sent (Loads' own start of the hit)
      rows[i + 1] = Number(res.headers['x-arrived-ns']) / 1e6 - offsetMs // the server's kernel received it
      rows[i + 2] = Number(res.headers['x-sent-ns']) / 1e6 - offsetMs // the server wrote the answer
      rows[i + 3] = end // the test code got it (a few µs after Loads recorded the hit)
      rows[i + 4] = res.totalUs / 1000 // the latency Loads recorded
    }
  }

  static tearDownClass() {
    const file = process.env.LOADS_SPLIT_OUT
    if (file) writeFileSync(file, JSON.stringify({ fields: ['sent', 'arrived', 'answered', 'end', 'latency'], rows: Array.from(rows.subarray(0, hits * FIELDS)), gcs }))
  }
}
