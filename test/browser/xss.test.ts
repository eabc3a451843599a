import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import type { Browser, Page } from 'playwright-core'
import { launchChromium, tableRows, watchedPage, type PageWatch } from '../helpers/browser.js'
import { LOADS_RUNNER, startDashboardRun, tempProject } from '../helpers/cli.js'
import { startCountingServer, type CountingServer } from '../helpers/counting-server.js'

/** Markup that runs code if it is ever parsed as HTML: each sets a different flag. */
const SCRIPT = '<script>window.__xss = "script"</script>'
const IMG = '<img src=x onerror="window.__xss = \'img\'">'
const EVIL = `${SCRIPT}${IMG}`

// The URL name, the response body (in the assertion message) and an exception's message are all
// attacker-controlled text as far as the page is concerned.
const EXAMPLE = `
import { TestCase } from 'loads-runner'

const EVIL = ${JSON.stringify(EVIL)}

export class TestEvil extends TestCase {
  async test_evil() {
    const res = await this.session.get(process.env.TARGET + '/evil', { name: '/evil/' + EVIL })
    this.assertEqual(res.text, 'a harmless body')
  }

  async test_throws() {
    // An error with a hint, as Loads's own errors carry one: shown under the message.
    throw Object.assign(new Error('thrown: ' + EVIL), { hint: 'hinted: ' + EVIL })
  }
}
`

async function expectInert(page: Page, watch: PageWatch): Promise<void> {
  expect(await page.evaluate(() => (window as unknown as { __xss?: string }).__xss)).toBeUndefined()
  expect(await page.$$eval('#app img, #app script', (els) => els.length)).toBe(0)
  expect(watch.dialogs).toEqual([])
  expect(watch.errors).toEqual([])
  // The markup is on the page as text, where the user can read it.
  const rows = await tableRows(page, 'endpoints')
  expect(rows.map((r) => r[1])).toEqual([`/evil/${EVIL}`])
  const messages = await page.$$eval('.error-group .message-full', (els) => els.map((e) => e.textContent))
  expect(messages).toContain(`${JSON.stringify(EVIL)} != "a harmless body"`)
  expect(messages).toContain(`thrown: ${EVIL}`)
  expect(await page.$$eval('.error-group .hint', (els) => els.map((e) => e.textContent))).toEqual([`hint: hinted: ${EVIL}`])
  expect(await page.$$eval('#error-kinds tbody tr', (rows) => rows.length)).toBe(2)
}

describe('user-controlled text in the dashboard and the report', () => {
  let server: CountingServer
  let browser: Browser
  let dir: string
  beforeAll(async () => {
    server = await startCountingServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' })
      res.end(EVIL)
    })
    dir = tempProject({ 'evil.ts': EXAMPLE })
    browser = await launchChromium()
  })
  afterAll(async () => {
    await browser?.close()
    await server?.close()
  })

  it('is shown as text and never runs: a URL name, a response body and an error message with <script> and <img onerror>', async () => {
    const run = startDashboardRun(LOADS_RUNNER, ['evil.ts:TestEvil', '-u', '2', '-c', '5', '-q', '--report', 'evil.html', '--dashboard', '0', '--dashboard-keep'], {
      cwd: dir,
      env: { TARGET: server.url },
    })
    const url = await run.url
    try {
      // The live dashboard (kept open after the run, so it holds the final state).
      for (let i = 0; i < 200; i++) {
        if ((await fetch(`${url}api/summary`)).status === 200) break
        await new Promise((r) => setTimeout(r, 100))
      }
      const live = await watchedPage(browser)
      await live.page.goto(url)
      await live.page.waitForSelector('.error-group')
      await expectInert(live.page, live.watch)
      await live.page.close()
    } finally {
      await fetch(`${url}api/stop`, { method: 'POST' })
    }
    const r = await run.done
    expect(r.code).toBe(1)
    expect(server.count).toBe(10)

    // The static report.
    const report = await watchedPage(browser)
    await report.page.goto(pathToFileURL(path.join(dir, 'evil.html')).href)
    await report.page.waitForSelector('.error-group')
    await expectInert(report.page, report.watch)
    expect(await report.page.title()).toBe('Loads report: evil.ts:TestEvil')
    await report.page.close()
  })
})
