/** The page's checks/groups panel, in a static report of the shop test: the run's exact counts. */
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Browser } from 'playwright-core'
import { launchChromium, tableRows, watchedPage } from '../helpers/browser.js'
import { LOADS_RUNNER, runBin, tempProject, testResult } from '../helpers/cli.js'
import type { CountingServer } from '../helpers/counting-server.js'
import { SHOP_TEST, startShopServer } from '../helpers/shop-test.js'

let server: CountingServer & { served500: () => number }
let browser: Browser
let dir: string
beforeAll(async () => {
  server = await startShopServer()
  dir = tempProject({ 'shop.ts': SHOP_TEST })
  browser = await launchChromium()
})
afterAll(async () => {
  await browser?.close()
  await server?.close()
})

describe('checks and groups on the page', () => {
  it('lists every check with its passes and failures, and every group and test method', async () => {
    const r = await runBin(LOADS_RUNNER, ['shop.ts:Shop', '-u', '4', '-c', '5', '--server-url', server.url, '-q', '--report', 'out/report.html'], { cwd: dir, timeoutMs: 110_000 })
    expect(testResult(r.stdout)).toEqual({ run: 40, errors: 0, failures: 20 })
    const { page, watch } = await watchedPage(browser)
    await page.goto(pathToFileURL(path.join(dir, 'out/report.html')).href)
    await page.waitForSelector('#checks tbody tr')
    expect((await tableRows(page, 'checks')).map((row) => [row[0], row[2], row[3]])).toEqual([
      ['always', '20', '0'],
      ['says ok', '18', '2'],
      ['status is 200', '18', '2'],
    ])
    expect((await tableRows(page, 'groups-methods')).map((row) => row.slice(0, 4)).sort()).toEqual([
      ['Shop.test_broken', '20', '20', '0'],
      ['Shop.test_buy', '20', '0', '0'],
      ['group broken', '20', '20', '0'],
      ['group checkout', '20', '0', '0'],
      ['group checkout::pay', '20', '0', '0'],
    ])
    expect(watch.errors).toEqual([])
  }, 120_000)
})
