import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import type { Browser } from 'playwright-core'
import { canvasSizes, launchChromium, tableRows, watchedPage } from '../helpers/browser.js'
import { LOADS, LOADS_RUNNER, runBin, tempProject, testResult } from '../helpers/cli.js'
import { startCountingServer, type CountingServer } from '../helpers/counting-server.js'

const EXAMPLE = `
import { TestCase } from 'loads-runner'

export class TestApi extends TestCase {
  async test_browse() {
    const id = 1 + (this.userIndex % 4)
    const item = await this.session.get(process.env.TARGET + '/items/' + id, { name: '/items/{id}' })
    this.assertEqual(item.status, 200)
    await this.session.get(process.env.TARGET + '/')
  }
}
`

describe('the static report, opened from file://', () => {
  let server: CountingServer
  let browser: Browser
  let dir: string
  beforeAll(async () => {
    server = await startCountingServer()
    dir = tempProject({ 'example.ts': EXAMPLE })
    browser = await launchChromium()
  })
  afterAll(async () => {
    await browser?.close()
    await server?.close()
  })

  it('draws the charts and lists every URL with the exact counts the server received, with no network', async () => {
    const r = await runBin(LOADS_RUNNER, ['example.TestApi.test_browse', '-u', '8', '-c', '25', '-q', '--report', 'out/report.html', '--output', 'json:out/result.json'], {
      cwd: dir,
      env: { TARGET: server.url },
    })
    expect(r.code).toBe(0)
    expect(testResult(r.stdout)).toEqual({ run: 200, errors: 0, failures: 0 })
    expect(r.stderr).toContain('--report out/report.html: wrote out/report.html')
    const items = [...server.countByPath].filter(([p]) => p.startsWith('/items/')).reduce((n, [, c]) => n + c, 0)
    expect(items).toBe(200)
    expect(server.countByPath.get('/')).toBe(200)

    const html = readFileSync(path.join(dir, 'out/report.html'), 'utf8')
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href="(?!data:)/)
    const { page, watch } = await watchedPage(browser)
    await page.goto(pathToFileURL(path.join(dir, 'out/report.html')).href)
    await page.waitForSelector('#endpoints tbody tr')

    const canvases = await canvasSizes(page)
    expect(canvases.map((c) => c.chart)).toEqual(['Hits per second', 'Latency', 'Errors per second', 'Active users', 'Generator: event-loop utilisation', 'Generator: event-loop delay p99'])
    for (const c of canvases) {
      expect(c.width, c.chart).toBeGreaterThan(200)
      expect(c.height, c.chart).toBeGreaterThan(100)
    }
    const rows = await tableRows(page, 'endpoints')
    expect(rows.map((row) => row.slice(0, 3))).toEqual([
      ['GET', '/', '200'],
      ['GET', '/items/{id}', '200'],
    ])
    expect(rows.map((row) => row.at(-1))).toEqual(['200×200', '200×200'])
    expect(await page.textContent('[data-kpi="hits"] .kpi-value')).toBe('400')
    expect(await page.textContent('[data-kpi="tests"] .kpi-value')).toBe('200')
    expect(await page.textContent('.badge')).toBe('finished · exit 0')
    expect(await page.textContent('.address')).toBe('example.TestApi.test_browse')
    // One file: nothing but the file itself was loaded, and nothing failed.
    expect(watch.requests).toEqual([pathToFileURL(path.join(dir, 'out/report.html')).href])
    expect(watch.errors).toEqual([])
    await page.close()

    // The same report, built later from the saved JSON result.
    const later = await runBin(LOADS, ['report', 'out/result.json', '-o', 'out/later.html'], { cwd: dir })
    expect(later.code).toBe(0)
    expect(later.stdout).toBe('wrote out/later.html\n')
    const again = await watchedPage(browser)
    await again.page.goto(pathToFileURL(path.join(dir, 'out/later.html')).href)
    await again.page.waitForSelector('#endpoints tbody tr')
    expect((await tableRows(again.page, 'endpoints')).map((row) => row.slice(0, 3))).toEqual(rows.map((row) => row.slice(0, 3)))
    expect((await canvasSizes(again.page)).filter((c) => c.width > 0 && c.height > 0)).toHaveLength(6)
    await again.page.close()
  })

  it('shows a comparison of two runs with per-URL deltas', async () => {
    const run = (out: string) =>
      runBin(LOADS_RUNNER, ['example.TestApi.test_browse', '-u', '4', '-c', '10', '-q', '--output', `json:${out}`], { cwd: dir, env: { TARGET: server.url } })
    expect((await run('a.json')).code).toBe(0)
    expect((await run('b.json')).code).toBe(0)
    const cmp = await runBin(LOADS, ['report', 'a.json', 'b.json', '-o', 'cmp.html'], { cwd: dir })
    expect(cmp.code).toBe(0)
    const { page, watch } = await watchedPage(browser)
    await page.goto(pathToFileURL(path.join(dir, 'cmp.html')).href)
    await page.waitForSelector('#compare tbody tr')
    const rows = await tableRows(page, 'compare')
    expect(rows.map((r) => r.slice(0, 2)).sort()).toEqual([
      ['GET', '/'],
      ['GET', '/items/{id}'],
    ])
    expect(await page.textContent('.subtitle')).toMatch(/^base a\.json \(.+\) → current b\.json \(.+\)$/)
    expect((await canvasSizes(page)).filter((c) => c.width > 0 && c.height > 0)).toHaveLength(2)
    expect(watch.errors).toEqual([])
    await page.close()
  })
})
