import { readFileSync, rmSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Browser, Page } from 'playwright-core'
import type { RunResult } from '../../src/report/result.js'
import { launchChromium, watchedPage } from '../helpers/browser.js'
import { LOADS_RUNNER, startDashboardRun, tempProject } from '../helpers/cli.js'
import { startCountingServer, type CountingServer } from '../helpers/counting-server.js'

const EXAMPLE = `
import { TestCase } from 'loads-runner'

export class TestApi extends TestCase {
  async test_items() {
    const res = await this.session.get(process.env.TARGET + '/items')
    this.assertEqual(res.status, 200)
  }
}
`

const kpi = (key: string): string => `[data-kpi="${key}"] .kpi-value`

/** Hovers the latency chart from left to right: the legend's time and p50 at each position. */
async function sweepLegend(page: Page, chart: string): Promise<{ time: string; p50: string }[]> {
  const over = page.locator(`[data-chart="${chart}"] .u-over`)
  const box = (await over.boundingBox())!
  const seen: { time: string; p50: string }[] = []
  for (let i = 0; i <= 80; i++) {
    await page.mouse.move(box.x + (box.width * i) / 80, box.y + box.height / 2)
    const values = await page.$$eval(`[data-chart="${chart}"] .u-legend .u-series`, (rows) =>
      rows.map((r) => [r.querySelector('.u-label')?.textContent ?? '', r.querySelector('.u-value')?.textContent ?? '']),
    )
    const time = values[0]?.[1] ?? ''
    const p50 = values.find(([label]) => label === 'p50')?.[1] ?? ''
    seen.push({ time, p50 })
  }
  return seen
}

describe('a server that stalls mid-run', () => {
  let server: CountingServer
  let browser: Browser
  let dir: string
  /** Until then (ms since epoch), the server holds every response. */
  let stallUntil = 0
  beforeAll(async () => {
    server = await startCountingServer((_req, res) => {
      const answer = (): void => {
        res.writeHead(200, { 'content-type': 'text/plain' })
        res.end('OK')
      }
      const wait = stallUntil - Date.now()
      setTimeout(answer, wait > 0 ? wait : 5)
    })
    dir = tempProject({ 'example.ts': EXAMPLE })
    browser = await launchChromium()
  })
  afterAll(async () => {
    await browser?.close()
    await server?.close()
  })

  it('shows the oldest request in flight while nothing completes, and draws the stall as a gap, not 0 ms', async () => {
    const out = path.join(dir, 'out.json')
    // A retry starts clean: no stall pending, no result of the failed attempt to read as its own.
    stallUntil = 0
    rmSync(out, { force: true })
    const run = startDashboardRun(LOADS_RUNNER, ['example.TestApi.test_items', '-u', '2', '-d', '11s', '--workers', '1', '--dashboard', '0', '--dashboard-keep', '--output', `json:${out}`, '-q'], {
      cwd: dir,
      env: { TARGET: server.url },
      timeoutMs: 150_000,
    })
    const url = await run.url
    const { page, watch } = await watchedPage(browser, { width: 1366, height: 900 })
    await page.goto(url)
    await page.waitForFunction((sel) => Number(document.querySelector(sel)?.textContent?.replaceAll(',', '')) > 0, kpi('hits'), { timeout: 45_000 })
    await page.waitForTimeout(2500)
    stallUntil = Date.now() + 6000
    // During the stall: no hit completes, and the page says how long the oldest request has waited.
    await page.waitForSelector('.in-flight.bad', { timeout: 15_000 })
    const shown = await page.textContent('.in-flight')
    expect(shown).toMatch(/^oldest request in flight: \d+\.\d s$/)
    expect(Number(/(\d+\.\d) s/.exec(shown!)![1])).toBeGreaterThanOrEqual(2)

    // The run ends by itself (the plan's 11 s), the dashboard stays for the look afterwards.
    await page.waitForFunction(() => document.querySelector('.badge')?.textContent === 'finished · exit 0', undefined, { timeout: 60_000 })
    expect(await page.isHidden('.in-flight')).toBe(true)
    expect(await page.getAttribute('.progress-fill', 'style')).toContain('width: 100%')

    // The page hears "finished" with the summary; the runner writes its files just after.
    const result = await readWhenWritten(out)
    expect(result.summary.hits).toBe(server.count)
    // Seconds inside the stall: nothing completed, so nothing was measured.
    const gaps = result.series.filter((p) => p.hits === 0)
    expect(gaps.length).toBeGreaterThanOrEqual(3)
    for (const p of gaps) expect([p.p50, p.p95, p.p99]).toEqual([null, null, null])
    for (const p of result.series.filter((q) => q.hits > 0)) expect(p.p50).toBeGreaterThan(0)

    // The chart agrees: hovering a stalled second shows no latency, a served one a figure.
    const legend = await sweepLegend(page, 'Latency')
    // The legend says the second as clock time and seconds since the start: `10:04:07 (+12s)`.
    const gapSeconds = new Set(gaps.map((p) => `(+${p.t}s)`))
    const hovered = legend.filter((l) => gapSeconds.has(/\(\+\d+s\)$/.exec(l.time)?.[0] ?? ''))
    expect(hovered.length).toBeGreaterThan(0)
    for (const l of hovered) expect(l.p50).toBe('–')
    expect(legend.some((l) => /^\d/.test(l.p50))).toBe(true)
    expect(watch.errors).toEqual([])

    await fetch(`${url}api/stop`, { method: 'POST' })
    const r = await run.done
    expect(r.code).toBe(0)
    await page.close()
  }, 180_000)
})

/** The JSON result at `file`, once the runner has written it whole (within 15 s). */
async function readWhenWritten(file: string): Promise<RunResult> {
  for (const until = Date.now() + 15_000; ; await new Promise((resolve) => setTimeout(resolve, 100))) {
    try {
      return JSON.parse(readFileSync(file, 'utf8')) as RunResult
    } catch (err) {
      if (Date.now() > until) throw err
    }
  }
}
