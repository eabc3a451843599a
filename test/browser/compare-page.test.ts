import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import type { Browser } from 'playwright-core'
import { launchChromium, tableRows, watchedPage } from '../helpers/browser.js'
import { LOADS, LOADS_RUNNER, runBin, tempProject } from '../helpers/cli.js'
import { startCountingServer, type CountingServer } from '../helpers/counting-server.js'

const LONG = `/reports/${'a-very-long-segment-'.repeat(20)}end`

const EXAMPLE = `
import { TestCase } from 'loads-runner'

export class TestApi extends TestCase {
  async test_api() {
    const res = await this.session.get(process.env.TARGET + '/api', { name: '${LONG}' })
    this.assertEqual(res.status, 200)
  }
}
`

describe('the comparison page, opened from file://', () => {
  let server: CountingServer
  let browser: Browser
  let dir: string
  let status = 200
  beforeAll(async () => {
    server = await startCountingServer((_req, res) => res.writeHead(status).end('ok'))
    dir = tempProject({ 'example.ts': EXAMPLE })
    browser = await launchChromium()
  })
  afterAll(async () => {
    await browser?.close()
    await server?.close()
  })

  it('shows both runs side by side, why they are not comparable, failed tests as regressions, and stays as wide as the window', async () => {
    const run = async (out: string, users: string): Promise<void> => {
      const before = server.count
      const r = await runBin(LOADS_RUNNER, ['example.TestApi.test_api', '-u', users, '-c', '5', '-w', '1', '-q', '--output', `json:${out}`], { cwd: dir, env: { TARGET: server.url } })
      expect(r.stderr).toContain(`wrote ${out}`)
      expect(server.count - before).toBe(Number(users) * 5)
    }
    // The base run answers 200 (a retry follows an attempt that left the server on 500).
    status = 200
    await run('a.json', '2')
    status = 500
    await run('b.json', '3')
    const cmp = await runBin(LOADS, ['report', 'a.json', 'b.json', '--force', '-o', 'cmp.html'], { cwd: dir })
    expect(cmp.code).toBe(0)

    const { page, watch } = await watchedPage(browser, { width: 1280, height: 900 })
    await page.goto(pathToFileURL(path.join(dir, 'cmp.html')).href)
    await page.waitForSelector('#compare-runs tbody tr')
    expect(await page.textContent('.badge')).toBe('not comparable')
    expect(await page.$$eval('.not-comparable li', (els) => els.map((e) => e.textContent))).toEqual(['different plans: base 2 users × 5 runs; current 3 users × 5 runs'])
    const sides = await page.$$eval('#compare-runs tbody tr', (rows) => rows.map((r) => [r.getAttribute('data-row'), r.classList.contains('differs'), ...[...r.querySelectorAll('td')].map((td) => td.textContent)]))
    expect(sides.filter(([key]) => ['tests', 'plan', 'users', 'ended', 'hits', 'runs', 'thresholds', 'where'].includes(String(key)))).toEqual([
      ['tests', false, 'TestApi.test_api', 'TestApi.test_api'],
      ['plan', true, '2 users × 5 runs', '3 users × 5 runs'],
      ['users', true, '2', '3'],
      ['ended', true, 'finished · exit 0', 'finished · exit 1'],
      ['hits', true, '10', '15'],
      ['runs', true, '10 · 0 failed', '15 · 15 failed'],
      ['thresholds', false, 'none', 'none'],
      ['where', false, 'this machine · 1 worker', 'this machine · 1 worker'],
    ])
    expect(await tableRows(page, 'compare-tests')).toEqual([['TestApi.test_api', '10 → 15', '0.0% → 100.0% (+100.00 pt)', 'regressed']])
    const regressions = await page.$$eval('#regressions li', (els) => els.map((e) => e.textContent))
    expect(regressions).toContain('TestApi.test_api: 100.0% failed (was 0.0%)')
    // (Its rate and latency may move as well on a busy machine: the failed hits are certain.)
    expect(regressions.filter((r) => r?.startsWith(`GET ${LONG}: `))).toEqual([expect.stringMatching(/ failed hits$/)])
    const rows = await tableRows(page, 'compare')
    expect(rows.map((r) => r.slice(0, 2))).toEqual([['GET', LONG]])

    // A 420-character name, a long reason: nothing is wider than the window.
    const widths = await page.evaluate(() => ({ doc: document.documentElement.scrollWidth, win: window.innerWidth, name: document.querySelector('#compare td.name')!.getBoundingClientRect().width }))
    expect(widths.doc).toBeLessThanOrEqual(widths.win)
    expect(widths.name).toBeLessThanOrEqual(440)
    await page.setViewportSize({ width: 900, height: 900 })
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true)
    expect(watch.errors).toEqual([])
    await page.close()
  }, 150_000)
})
