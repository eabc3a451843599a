import { rmSync } from 'node:fs'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { canvasSizes, launchChromium, tableRows, watchedPage } from '../helpers/browser.js'
import { LOADS_RUNNER, startDashboardRun, tempProject, testResult } from '../helpers/cli.js'
import { startCountingServer, type CountingServer } from '../helpers/counting-server.js'
import { GENERATOR_TESTS } from '../helpers/generator-tests.js'

const GENERATOR_CHARTS = ['Generator: event-loop utilisation', 'Generator: event-loop delay p99']

describe("the page shows the generator's health", () => {
  let server: CountingServer
  let browser: Browser
  let dir: string
  beforeAll(async () => {
    server = await startCountingServer()
    dir = tempProject({ 'gen.ts': GENERATOR_TESTS })
    browser = await launchChromium()
  })
  afterAll(async () => {
    await browser?.close()
    await server?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('warns on the live dashboard during the run, and the report draws the charts and the per-worker figures', async () => {
    const run = startDashboardRun(LOADS_RUNNER, ['gen.Gen.test_burn', '-u', '20', '-d', '14s', '-w', '1', '-q', '--dashboard', '0', '--report', 'out/report.html'], {
      cwd: dir,
      env: { TARGET: server.url },
      timeoutMs: 60_000,
    })
    const url = await run.url
    const live = await watchedPage(browser, { width: 1366, height: 768 })
    await live.page.goto(url)
    // While the run goes: the warning names the worker, and says what to do.
    const item = '.generator-warnings li[data-source="worker-0"][data-kind="elu"]'
    await live.page.waitForSelector(item, { state: 'visible', timeout: 30_000 })
    // The warning comes once the worker has been over 90% for 5 s; the run lasts 14 s so the page
    // still says running then (at 9 s CI saw it finish first).
    expect(await live.page.textContent('.badge')).toBe('running')
    expect(await live.page.textContent(item)).toMatch(/^worker-0: event-loop utilisation ≥ 90% since \d+ s \(\d+ s, peak \d+%\)$/)
    expect(await live.page.textContent('.generator-warnings .advice')).toBe("Latencies may include Loads' own queueing: add workers (-w), agents, or reduce think-free users.")
    const liveCharts = (await canvasSizes(live.page)).filter((c) => GENERATOR_CHARTS.includes(c.chart))
    expect(liveCharts.map((c) => c.chart)).toEqual(GENERATOR_CHARTS)
    for (const c of liveCharts) expect(c.width, c.chart).toBeGreaterThan(200)
    expect(live.watch.errors).toEqual([])
    await live.page.close()

    const r = await run.done
    expect(r.code).toBe(0)
    expect(server.count).toBe(testResult(r.stdout)!.run)

    const { page, watch } = await watchedPage(browser)
    await page.goto(pathToFileURL(path.join(dir, 'out/report.html')).href)
    await page.waitForSelector('#generator-sources tbody tr')
    expect(await page.isVisible('[data-section="generator"]')).toBe(true)
    const rows = await tableRows(page, 'generator-sources')
    expect(rows.map((row) => [row[0], row[1]])).toEqual([['worker-0', '1']])
    // Its max utilisation: busy all the time, 99% or 100% by the second.
    expect(rows[0]![2]).toMatch(/^(99|100)%$/)
    expect(await page.getAttribute('#generator-sources tbody tr', 'class')).toBe('bad')
    expect(await page.textContent(item)).toMatch(/^worker-0: event-loop utilisation ≥ 90% from \d+ s to \d+ s \(\d+ s, peak \d+%\)$/)
    const charts = (await canvasSizes(page)).filter((c) => GENERATOR_CHARTS.includes(c.chart))
    expect(charts.map((c) => c.chart)).toEqual(GENERATOR_CHARTS)
    for (const c of charts) {
      expect(c.width, c.chart).toBeGreaterThan(200)
      expect(c.height, c.chart).toBeGreaterThan(100)
    }
    expect(watch.errors).toEqual([])
    await page.close()
  })
})
