import { describe, expect, it } from 'vitest'
import { harTestModule } from '../../src/shell/test-module.js'

/** A recording of `n` form posts, each with its own token from the page before and an id it created. */
function recording(n: number): string {
  const entries: unknown[] = []
  const at = (k: number): string => new Date(Date.UTC(2026, 0, 1) + k * 10).toISOString()
  for (let i = 0; i < n; i++) {
    const token = `tok${i}x${(i * 7919).toString(16).padStart(8, '0')}`
    const id = `item${i}z${(i * 104729).toString(16).padStart(8, '0')}`
    entries.push(
      { startedDateTime: at(3 * i), time: 1, request: { method: 'GET', url: `http://127.0.0.1:9/form/${i}`, headers: [] }, response: { status: 200, headers: [], content: { mimeType: 'text/html', text: `<form method=post action=/submit><input type=hidden name=csrf value="${token}"></form>${'<p>filler text</p>'.repeat(20)}` } } },
      { startedDateTime: at(3 * i + 1), time: 1, request: { method: 'POST', url: 'http://127.0.0.1:9/submit', headers: [{ name: 'Content-Type', value: 'application/x-www-form-urlencoded' }], postData: { mimeType: 'application/x-www-form-urlencoded', text: `csrf=${token}&n=${i}` } }, response: { status: 201, headers: [], content: { mimeType: 'application/json', text: JSON.stringify({ item: { id, n: i } }) } } },
      { startedDateTime: at(3 * i + 2), time: 1, request: { method: 'GET', url: `http://127.0.0.1:9/items/${id}`, headers: [] }, response: { status: 200, headers: [], content: { mimeType: 'text/plain', text: 'ok' } } },
    )
  }
  return JSON.stringify({ log: { entries } })
}

describe('HAR import scales with the recording', () => {
  it('correlates every token and id of a 36,000-request recording in well under the minutes a quadratic import takes', () => {
    const n = 12_000
    const text = recording(n)
    // CPU time, not wall time: on a loaded machine the wait for a core is not the importer's.
    const start = process.cpuUsage()
    const { code } = harTestModule(text)
    const used = process.cpuUsage(start)
    const ms = (used.user + used.system) / 1000
    expect((code.match(/= extract\.formField\(/g) ?? []).length).toBe(n)
    expect((code.match(/= extract\.json\(/g) ?? []).length).toBe(n)
    console.log(`HAR import: ${3 * n} requests in ${ms.toFixed(0)} ms of CPU`)
    // Linear code takes ~2.5 s here (24x the ~0.1 s of 1,500 requests); a quadratic import
    // would take 24² = 576x that, about a minute. One absolute bound, not a ratio of two short
    // runs: a GC pause in one of them moved such a ratio 4x in CI (the curl parser's twin).
    expect(ms).toBeLessThan(25_000)
  })
})
