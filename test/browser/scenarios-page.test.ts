/** The page's scenarios panel, in a static report of a run of two scenarios: the run's exact counts. */
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Browser } from 'playwright-core'
import { launchChromium, tableRows, watchedPage } from '../helpers/browser.js'
import { LOADS_RUNNER, runBin, tempProject, testResult } from '../helpers/cli.js'
import { startCountingServer, type CountingServer } from '../helpers/counting-server.js'

const SHOP = `import { TestCase } from 'loads-runner'
export class Browser extends TestCase {
  async test_browse() { await this.session.get('/browse') }
}
export class Buyer extends TestCase {
  async test_buy() { await this.session.get('/broken') }
}
`
const CONFIG = `[scenario.browse]
test = "shop.ts:Browser"
users = 2
hits = 6

[scenario.buy]
test = "shop.ts:Buyer"
rate = 4
duration = "1s"
start = "500ms"
`

let server: CountingServer
let browser: Browser
let dir: string
beforeAll(async () => {
  server = await startCountingServer((req, res) => {
    res.writeHead(req.url === '/broken' ? 503 : 200)
    res.end('ok')
  })
  dir = tempProject({ 'shop.ts': SHOP, 'loads.toml': CONFIG })
  browser = await launchChromium()
})
afterAll(async () => {
  await browser?.close()
  await server?.close()
})

describe('scenarios on the page', () => {
  it('lists each scenario with its start, runs, hits and failed hits', async () => {
    const r = await runBin(LOADS_RUNNER, ['--config', 'loads.toml', '--server-url', server.url, '-q', '--report', 'out/report.html'], { cwd: dir, timeoutMs: 60_000 })
    expect(testResult(r.stdout)).toEqual({ run: 16, errors: 0, failures: 0 })
    expect(server.countByPath.get('/broken')).toBe(4)
    const { page, watch } = await watchedPage(browser)
    await page.goto(pathToFileURL(path.join(dir, 'out/report.html')).href)
    await page.waitForSelector('#scenarios tbody tr')
    expect((await tableRows(page, 'scenarios')).map((row) => row.slice(0, 6))).toEqual([
      ['browse', '0 s', '12', '0', '12', '0'],
      ['buy', '0.5 s', '4', '0', '4', '4'],
    ])
    // The plan line names each scenario's shape, not a "step 2 of 2".
    expect(await page.textContent('.step')).toBe('Scenarios: browse: 2 users × 6 runs; buy (at 0.5s): rate 4/s for 1s (at most 1,000 in flight)')
    expect(watch.errors).toEqual([])
  }, 90_000)
})
