/**
 * Usable charts and tables (issue 14, item 4), on the dashboard of a real two-step run: clock
 * time and the second under the cursor in the legend, the latest values at rest, step
 * boundaries, drag to zoom and reset, log scale; sortable tables; JSON and CSV downloads that
 * match the server's count; printing shows everything.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Browser } from 'playwright-core'
import { launchChromium, tableRows, watchedPage } from '../helpers/browser.js'
import { LOADS_RUNNER, startDashboardRun, tempProject } from '../helpers/cli.js'
import { startCountingServer, type CountingServer } from '../helpers/counting-server.js'

const TEST = `
import { TestCase } from 'loads-runner'

export class Two extends TestCase {
  async test_pages() {
    await this.session.get(process.env.TARGET + '/a')
    await this.session.get(process.env.TARGET + '/b')
    await this.session.get(process.env.TARGET + '/b')
  }
}
`

let server: CountingServer
let browser: Browser
let dir: string
beforeAll(async () => {
  server = await startCountingServer((_req, res) => setTimeout(() => res.end('ok'), 5))
  dir = tempProject({ 'two.ts': TEST })
  browser = await launchChromium()
})
afterAll(async () => {
  await browser?.close()
  await server?.close()
})

const legend = (chart: string, i: number): string => `[data-chart="${chart}"] .u-legend .u-series:nth-child(${i + 1}) .u-value`

describe('charts and tables on the dashboard', () => {
  it('zoom, reset, log scale, clock time, latest values at rest, step marks, sorting, downloads and print', async () => {
    const run = startDashboardRun(LOADS_RUNNER, ['two.Two.test_pages', '-u', '2:3', '-d', '3s', '--pause', '1s', '--dashboard', '0', '--dashboard-keep', '-q'], {
      cwd: dir,
      env: { TARGET: server.url },
      timeoutMs: 90_000,
    })
    const url = await run.url
    const { page, watch } = await watchedPage(browser)
    await page.goto(url)
    await page.waitForFunction(() => document.querySelector('.badge')?.textContent?.startsWith('finished'), undefined, { timeout: 60_000, polling: 250 })

    // Steps: the second at which step 2 began is marked on every chart.
    const { series } = (await (await fetch(`${url}api/series`)).json()) as { series: { t: number; step: number }[] }
    const step2 = series.find((p) => p.step === 1)!.t
    for (const chart of ['Hits per second', 'Latency', 'Errors per second', 'Active users']) {
      expect(await page.getAttribute(`[data-chart="${chart}"]`, 'data-steps'), chart).toBe(String(step2))
    }

    // At rest the legend shows the last second, in clock time, and its values (not dashes).
    const { startMs } = ((await (await fetch(`${url}api/run`)).json()) as { run: { startMs: number } }).run
    const last = series.at(-1)!.t
    const expected = await page.evaluate(([s, t]) => {
      const d = new Date(s! + t! * 1000)
      const pad = (n: number): string => String(n).padStart(2, '0')
      return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())} (+${t}s)`
    }, [startMs, last])
    expect(await page.textContent(legend('Hits per second', 0))).toBe(expected)
    expect(await page.textContent(legend('Hits per second', 1))).not.toBe('–')
    expect(await page.textContent(legend('Active users', 1))).toBe('0')

    // Hovering says which second is under the cursor.
    const over = (await page.$('[data-chart="Hits per second"] .u-over'))!
    const box = (await over.boundingBox())!
    await page.mouse.move(box.x + box.width * 0.1, box.y + box.height / 2)
    await page.waitForFunction(([sel, rest]) => document.querySelector(sel!)?.textContent !== rest, [legend('Hits per second', 0), expected], { polling: 100 })
    expect(await page.textContent(legend('Hits per second', 0))).toMatch(/^\d\d:\d\d:\d\d \(\+\ds\)$/)

    // Drag to zoom; reset shows the whole run again.
    await page.mouse.move(box.x + box.width * 0.2, box.y + box.height / 2)
    await page.mouse.down()
    await page.mouse.move(box.x + box.width * 0.6, box.y + box.height / 2, { steps: 5 })
    await page.mouse.up()
    await page.waitForFunction(() => document.querySelector('[data-chart="Hits per second"]')?.hasAttribute('data-zoom'), undefined, { polling: 100 })
    const [from, to] = (await page.getAttribute('[data-chart="Hits per second"]', 'data-zoom'))!.split('-').map(Number)
    expect(from).toBeGreaterThanOrEqual(0)
    expect(to! - from!).toBeLessThan(last)
    expect(await page.isVisible('[data-chart="Hits per second"] .chart-reset')).toBe(true)
    await page.click('[data-chart="Hits per second"] .chart-reset')
    expect(await page.getAttribute('[data-chart="Hits per second"]', 'data-zoom')).toBeNull()
    expect(await page.isHidden('[data-chart="Hits per second"] .chart-reset')).toBe(true)

    // Log scale on the latency chart: drawn again, legend still there.
    await page.check('[data-chart="Latency"] .chart-log')
    expect(await page.getAttribute('[data-chart="Latency"]', 'data-scale')).toBe('log')
    expect(await page.$$eval('[data-chart="Latency"] canvas', (c) => c.length)).toBe(1)
    expect(await page.textContent(legend('Latency', 2))).toMatch(/^\d/)

    // Sorting: by name at first, by hits (busiest first) on a click, the other way on a second.
    expect((await tableRows(page, 'endpoints')).map((r) => r[1])).toEqual(['/a', '/b'])
    await page.click('#endpoints th:has-text("Hits/s") >> xpath=preceding-sibling::th[1]')
    expect(await page.getAttribute('#endpoints th:nth-child(3)', 'aria-sort')).toBe('descending')
    expect((await tableRows(page, 'endpoints')).map((r) => r[1])).toEqual(['/b', '/a'])
    await page.click('#endpoints th:nth-child(3)')
    expect((await tableRows(page, 'endpoints')).map((r) => r[1])).toEqual(['/a', '/b'])

    // Downloads: the same numbers as the server's count.
    const json = await page.evaluate(async () => (await (await fetch(document.querySelector<HTMLAnchorElement>('[data-download="json"]')!.href)).json()) as { format: string; state: string; summary: { hits: number } })
    expect(json.format).toBe('loads-result')
    expect(json.state).toBe('finished')
    expect(json.summary.hits).toBe(server.count)
    const csv = await page.evaluate(async () => (await fetch(document.querySelector<HTMLAnchorElement>('[data-download="csv"]')!.href)).text())
    const lines = csv.trim().split('\r\n')
    expect(lines[0]).toMatch(/^method,name,hits,failed,/)
    const hitsOf = (name: string): number => Number(lines.find((l) => l.split(',')[1] === name)!.split(',')[2])
    expect([hitsOf('/a'), hitsOf('/b')]).toEqual([server.countByPath.get('/a'), server.countByPath.get('/b')])

    // Printing: no scroll boxes, no controls, error groups open.
    await page.emulateMedia({ media: 'print' })
    await page.evaluate(() => window.dispatchEvent(new Event('beforeprint')))
    expect(await page.$eval('#endpoints', (t) => getComputedStyle(t.closest('.table-wrap')!).maxHeight)).toBe('none')
    expect(await page.isHidden('.data-table:has(#endpoints) .table-filter')).toBe(true)
    expect(watch.errors).toEqual([])

    await fetch(`${url}api/stop`, { method: 'POST' })
    const r = await run.done
    expect(r.code).toBe(0)
  }, 120_000)
})
