import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Browser } from 'playwright-core'
import { canvasSizes, launchChromium, tableRows, watchedPage } from '../helpers/browser.js'
import { LOADS_RUNNER, startDashboardRun, tempProject } from '../helpers/cli.js'
import { startCountingServer, type CountingServer } from '../helpers/counting-server.js'

const EXAMPLE = `
import { TestCase } from 'loads-runner'

export class TestApi extends TestCase {
  async test_items() {
    const id = 1 + (this.userIndex % 3)
    const res = await this.session.get(process.env.TARGET + '/items/' + id, { name: '/items/{id}' })
    this.assertEqual(res.status, 200)
  }
}
`

/** The `Hits: N (…)` line of the console summary. */
function reportedHits(stdout: string): number {
  const m = /^Hits: (\d+)/m.exec(stdout)
  if (!m) throw new Error(`no Hits line in:\n${stdout}`)
  return Number(m[1])
}

const kpi = (key: string): string => `[data-kpi="${key}"] .kpi-value`

describe('the live dashboard during a real run', () => {
  let server: CountingServer
  let browser: Browser
  let dir: string
  beforeAll(async () => {
    // A few ms per request keeps a 4-user run well below the machine's limits.
    server = await startCountingServer((_req, res) => {
      setTimeout(() => {
        res.writeHead(200, { 'content-type': 'text/plain' })
        res.end('Search OK')
      }, 3)
    })
    dir = tempProject({ 'example.ts': EXAMPLE })
    browser = await launchChromium()
  })
  afterAll(async () => {
    await browser?.close()
    await server?.close()
  })

  it('shows the numbers moving, answers the API, and Stop ends the run with exit 130 and exact counts', async () => {
    // A failed assertion must not leave a 60 s run hammering the server for the next test: startDashboardRun kills it.
    const run = startDashboardRun(LOADS_RUNNER, ['example.TestApi.test_items', '-u', '4', '-d', '60s', '--workers', '2', '--dashboard', '0', '--threshold', 'p99<5s'], {
      cwd: dir,
      env: { TARGET: server.url },
      timeoutMs: 90_000,
    })
    const url = await run.url
    const { page, watch } = await watchedPage(browser, { width: 1366, height: 768 })
    await page.goto(url)

    // Numbers move: the hit count grows between two updates, as does the per-URL row.
    await page.waitForFunction((sel) => Number(document.querySelector(sel)?.textContent?.replaceAll(',', '')) > 0, kpi('hits'), { timeout: 20_000 })
    const first = Number((await page.textContent(kpi('hits')))!.replaceAll(',', ''))
    await page.waitForFunction(
      ([sel, n]) => Number(document.querySelector(sel as string)?.textContent?.replaceAll(',', '')) > (n as number),
      [kpi('hits'), first] as const,
      { timeout: 10_000 },
    )
    expect(await page.textContent('.badge')).toBe('running')
    expect(await page.textContent('.step')).toBe('Plan: 4 users for 1m')
    const rows = await tableRows(page, 'endpoints')
    expect(rows.map((r) => [r[0], r[1]])).toEqual([['GET', '/items/{id}']])
    expect(Number(rows[0]![2]!.replaceAll(',', ''))).toBeGreaterThan(0)
    expect(await page.textContent('[data-threshold="p99<5s"] .mark')).toBe('✓')
    await page.waitForFunction(() => document.querySelectorAll('#sources tbody tr').length === 2)
    await page.waitForFunction((sel) => document.querySelector(sel)?.textContent === '4', kpi('users'), { timeout: 5000 })
    const sources = await tableRows(page, 'sources')
    expect(sources.map((r) => [r[0], r[1]])).toEqual([
      ['worker-0', 'running'],
      ['worker-1', 'running'],
    ])
    // Charts are drawn once a second has passed.
    await page.waitForFunction(() => document.querySelectorAll('[data-chart] canvas').length === 6)
    for (const c of await canvasSizes(page)) expect(c.width * c.height, c.chart).toBeGreaterThan(0)

    // The JSON API, as curl sees it.
    const apiRun = (await (await fetch(`${url}api/run`)).json()) as { state: string; run: { address: string; plan: unknown }; sources: unknown[] }
    expect(apiRun).toMatchObject({ state: 'running', run: { address: 'example.TestApi.test_items', plan: { steps: [{ users: 4, durationMs: 60_000 }] } } })
    const stats = (await (await fetch(`${url}api/stats`)).json()) as { state: string; live: { hits: number }; summary: { endpoints: { name: string }[] } }
    expect(stats.state).toBe('running')
    expect(stats.live.hits).toBeGreaterThan(0)
    expect(stats.summary.endpoints.map((e) => e.name)).toEqual(['/items/{id}'])
    const early = await fetch(`${url}api/summary`)
    expect(early.status).toBe(409)
    expect(((await early.json()) as { state: string }).state).toBe('running')
    // Another site's page cannot stop the run, and GET does not either.
    expect((await fetch(`${url}api/stop`, { method: 'POST', headers: { origin: 'http://evil.example' } })).status).toBe(403)
    expect((await fetch(`${url}api/stop`)).status).toBe(405)

    // Stop: the run ends gracefully, like Ctrl-C.
    await page.click('button.stop')
    const r = await run.done
    expect(r.code).toBe(130)
    // Tests cut short by the stop count as errors of kind Interrupted.
    expect(r.stdout).toMatch(/<TestResult run=\d+ errors=\d+ failures=0>\s*$/)
    expect(reportedHits(r.stdout)).toBe(server.count)
    // The page got the last update before the server closed.
    await page.waitForFunction(() => document.querySelector('.badge')?.textContent === 'interrupted · exit 130', undefined, { timeout: 5000 })
    expect(await page.isHidden('button.stop')).toBe(true)
    const finalHits = Number((await page.textContent(kpi('hits')))!.replaceAll(',', ''))
    expect(finalHits).toBe(server.count)
    expect(watch.errors).toEqual([])
    expect(watch.requests.every((u) => u.startsWith(url))).toBe(true)
    await page.close()
  }, 90_000)

  it('POST /api/stop stops a run from curl, and --dashboard-keep serves /api/summary after the end', async () => {
    const before = server.count
    const run = startDashboardRun(LOADS_RUNNER, ['example.TestApi.test_items', '-u', '2', '-d', '60s', '--workers', '1', '--dashboard', '0', '--dashboard-keep', '-q'], {
      cwd: dir,
      env: { TARGET: server.url },
      timeoutMs: 60_000,
    })
    const url = await run.url
    for (let i = 0; i < 100; i++) {
      const s = (await (await fetch(`${url}api/stats`)).json()) as { live?: { hits: number } }
      if ((s.live?.hits ?? 0) > 0) break
      await new Promise((r) => setTimeout(r, 100))
    }
    const stop = await fetch(`${url}api/stop`, { method: 'POST' })
    expect(stop.status).toBe(202)
    expect(await stop.json()).toEqual({ stopping: true, state: 'running' })
    // The run is over but the dashboard stays: the summary is there now.
    let summary: Response | undefined
    for (let i = 0; i < 100; i++) {
      summary = await fetch(`${url}api/summary`)
      if (summary.status === 200) break
      await new Promise((r) => setTimeout(r, 100))
    }
    expect(summary?.status).toBe(200)
    const body = (await summary!.json()) as { state: string; exitCode: number; summary: { hits: number } }
    expect(body).toMatchObject({ state: 'interrupted', exitCode: 130 })
    expect(body.summary.hits).toBe(server.count - before)
    // A second stop, once the run is over, lets the process go.
    expect(await (await fetch(`${url}api/stop`, { method: 'POST' })).json()).toEqual({ stopping: false, state: 'interrupted' })
    const r = await run.done
    expect(r.code).toBe(130)
    expect(r.stderr).toContain('dashboard: the run is over; still serving')
  }, 60_000)
})
