/**
 * The latency chart per URL name (issue 14, item 4): pick a name and the chart draws that
 * name's p50/p95/p99 per second — from the data embedded in a static report, or fetched for that
 * one name from a live dashboard (`/api/name-series`: the event stream never carries every
 * name's series). A second in which the picked name had no completed hit is a gap.
 */
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { reportHtml } from '../../src/report/html/html-report.js'
import { buildResult, runMeta } from '../../src/report/result.js'
import { Aggregator } from '../../src/stats/aggregator.js'
import { Recorder } from '../../src/stats/recorder.js'
import type { NameSeries } from '../../src/stats/types.js'
import { launchChromium, watchedPage } from '../helpers/browser.js'
import { LOADS_RUNNER, startDashboardRun, tempProject } from '../helpers/cli.js'
import { startCountingServer, type CountingServer } from '../helpers/counting-server.js'

const legend = (i: number): string => `[data-chart="Latency"] .u-legend .u-series:nth-child(${i + 1}) .u-value`

/** The legend's value text, as the chart formats a number. */
function shown(v: number): string {
  if (v >= 100) return Math.round(v).toLocaleString('en-US')
  if (v >= 10) return v.toFixed(1)
  return Number.isInteger(v) ? String(v) : v.toFixed(2)
}

async function restingLegend(page: Page): Promise<string[]> {
  // The cursor away from the chart: the legend shows the last second.
  await page.mouse.move(0, 0)
  return Promise.all([1, 2, 3].map((i) => page.textContent(legend(i)).then((t) => t ?? '')))
}

let browser: Browser
let dir: string
let server: CountingServer
beforeAll(async () => {
  browser = await launchChromium()
  server = await startCountingServer((req, res) => setTimeout(() => res.end('ok'), req.url === '/slow' ? 40 : 0))
  dir = tempProject({
    'two.ts': `
import { TestCase } from 'loads-runner'

export class Two extends TestCase {
  async test_pages() {
    await this.session.get(process.env.TARGET + '/fast')
    await this.session.get(process.env.TARGET + '/slow')
  }
}
`,
  })
})
afterAll(async () => {
  await browser?.close()
  await server?.close()
})

describe('the latency chart per URL name', () => {
  it('a static report: each name its own percentiles per second, a second without its hits a gap', async () => {
    const start = 1_700_000_000_000
    // One snapshot a second, as workers send them.
    const perSecond = new Aggregator({ startMs: start })
    let now = start
    const rec2 = new Recorder({ source: 'worker-0', now: () => now })
    for (let s = 0; s < 4; s++) {
      for (let i = 0; i < 20; i++) rec2.recordHit('GET', '/a', 200, 2000 + i * 100, 1000, 0, 0, 0, null)
      // /b only in the first two seconds: the last second has nothing of it.
      if (s < 2) for (let i = 0; i < 5; i++) rec2.recordHit('POST', '/b', 201, 250_000 + i * 1000, 1000, 0, 0, 0, null)
      now += 1000
      perSecond.add(rec2.snapshot(s === 3))
    }
    const summary = perSecond.summary()
    const result = buildResult(
      runMeta({ runId: 'r', address: 'two.Two', tests: [], plan: { steps: [{ users: 1, hits: 1 }] }, mode: 'local', workers: 1, startMs: start }),
      { summary, exitCode: 0, interrupted: false, notes: [] },
      perSecond,
      '0.0.0',
    )
    const a = result.nameSeries!.find((n) => n.name === '/a')!
    const b = result.nameSeries!.find((n) => n.name === '/b')!
    expect([a.t, b.t]).toEqual([[1, 2, 3, 4], [1, 2]])
    const file = path.join(dir, 'report.html')
    writeFileSync(file, reportHtml(result))

    const { page, watch } = await watchedPage(browser)
    await page.goto(pathToFileURL(file).href)
    await page.waitForSelector('[data-latency-of] option[value="POST /b"]', { state: 'attached' })
    expect(await page.$$eval('[data-latency-of] option', (os) => os.map((o) => o.textContent))).toEqual(['all URLs', 'GET /a', 'POST /b'])
    const all = result.series.at(-1)!
    expect(await restingLegend(page)).toEqual([all.p50!, all.p95!, all.p99!].map(shown))

    await page.selectOption('[data-latency-of]', 'GET /a')
    expect(await page.getAttribute('[data-chart="Latency"]', 'data-latency-name')).toBe('GET /a')
    expect(await restingLegend(page)).toEqual([a.p50.at(-1)!, a.p95.at(-1)!, a.p99.at(-1)!].map(shown))
    // /b had no hit in the last second: a gap, not 0 ms.
    await page.selectOption('[data-latency-of]', 'POST /b')
    expect(await restingLegend(page)).toEqual(['–', '–', '–'])
    await page.selectOption('[data-latency-of]', '')
    expect(await restingLegend(page)).toEqual([all.p50!, all.p95!, all.p99!].map(shown))
    expect(watch.errors).toEqual([])
  }, 60_000)

  it('a live dashboard fetches the picked name\'s series alone, equal to what the runner merged', async () => {
    const run = startDashboardRun(LOADS_RUNNER, ['two.Two.test_pages', '-u', '2', '-d', '3s', '--dashboard', '0', '--dashboard-keep', '-q'], {
      cwd: dir,
      env: { TARGET: server.url },
      timeoutMs: 90_000,
    })
    try {
      const url = await run.url
      const { page, watch } = await watchedPage(browser)
      const asked: string[] = []
      page.on('request', (r) => {
        if (r.url().includes('/api/name-series')) asked.push(new URL(r.url()).search)
      })
      await page.goto(url)
      await page.waitForFunction(() => document.querySelector('.badge')?.textContent?.startsWith('finished'), undefined, { timeout: 60_000, polling: 250 })
      expect(asked).toEqual([])
      await page.selectOption('[data-latency-of]', 'GET /slow')
      await page.waitForFunction(() => document.querySelector('[data-chart="Latency"] .u-legend .u-series:nth-child(4) .u-value')?.textContent !== '–', undefined, { timeout: 10_000, polling: 100 })
      expect(asked[0]).toBe('?method=GET&name=%2Fslow')
      const slow = (await page.evaluate(() => fetch('api/name-series?method=GET&name=%2Fslow').then((r) => r.json()))) as NameSeries
      expect(slow.t.length).toBeGreaterThanOrEqual(2)
      expect(await restingLegend(page)).toEqual([slow.p50.at(-1)!, slow.p95.at(-1)!, slow.p99.at(-1)!].map(shown))
      // /slow answers after 40 ms: every second's p50 of it is at least that (the run-wide one is not).
      expect(Math.min(...slow.p50)).toBeGreaterThanOrEqual(40)
      expect(watch.errors).toEqual([])
    } finally {
      run.kill('SIGINT')
      await run.done
    }
  }, 120_000)
})
