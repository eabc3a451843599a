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

function importMs(text: string): { ms: number; code: string } {
  const start = performance.now()
  const { code } = harTestModule(text)
  return { ms: performance.now() - start, code }
}

describe('HAR import scales with the recording', () => {
  it('correlates every token and id of a 1,500-request recording, and 8 times the input takes well under 64 times as long', () => {
    const small = recording(500)
    const large = recording(4000)
    importMs(small) // warm up the JIT
    const a = importMs(small)
    const b = importMs(large)
    expect((a.code.match(/= extract\.formField\(/g) ?? []).length).toBe(500)
    expect((a.code.match(/= extract\.json\(/g) ?? []).length).toBe(500)
    expect((b.code.match(/= extract\.formField\(/g) ?? []).length).toBe(4000)
    const ratio = b.ms / a.ms
    console.log(`HAR import: 1,500 requests ${a.ms.toFixed(0)} ms, 12,000 requests ${b.ms.toFixed(0)} ms (×${ratio.toFixed(1)} for ×8 input; quadratic would be ×64)`)
    // Linear is ×8; a loaded machine and GC add noise, a quadratic import would show ×64.
    expect(ratio).toBeLessThan(24)
  })
})
