import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunResult } from '../../src/report/result.js'
import { launchChromium, watchedPage } from '../helpers/browser.js'
import { liveRuns, within } from '../helpers/live-runs.js'

describe('loads-runner TEST --web, in Chromium', () => {
  const runs = liveRuns()
  let browser: Browser
  beforeAll(async () => {
    browser = await launchChromium()
  })
  afterAll(() => browser?.close())

  it('starts with no load, runs what the form says, keeps each run (own id, downloads) and offers another; Ctrl-C ends it', async () => {
    const server = runs.server()
    const run = runs.start(['live.Live.test_get', '--web', '-u', '3', '-d', '3s', '-w', '2'])
    const url = await run.url
    const { page, watch } = await watchedPage(browser, { width: 1366, height: 900 })
    await page.goto(url)
    // No load until Start; the form holds the flags' values.
    await page.waitForSelector('#web-users')
    expect(await page.inputValue('#web-users')).toBe('3')
    expect(await page.inputValue('#web-duration')).toBe('3s')
    await new Promise((r) => setTimeout(r, 500))
    expect(server.arrivals.length).toBe(0)
    const idle = (await (await fetch(new URL('api/run', url))).json()) as { state: string }
    expect(idle.state).toBe('idle')

    // A form the runner refuses says why, and starts nothing.
    await page.fill('#web-duration', 'soon')
    await page.click('.web-start')
    await page.waitForFunction(() => (document.querySelector('.web-form .control-message')?.textContent ?? '') !== '')
    expect(await page.textContent('.web-form .control-message')).toMatch(/duration/)

    await page.fill('#web-users', '4')
    await page.fill('#web-duration', '2s')
    await page.click('.web-start')
    await within(15_000, '4 users at the server', () => server.open === 4)
    await page.waitForSelector('[data-web-after]', { timeout: 20_000 })
    expect(await page.textContent('.badge')).toBe('finished · exit 0')
    const first = (await (await fetch(new URL('api/result.json', url))).json()) as RunResult
    expect(first.run.plan.steps).toEqual([{ users: 4, durationMs: 2000 }])
    expect(first.summary.hits).toBe(server.arrivals.length)
    const html = await fetch(new URL('api/report.html', url))
    expect(html.headers.get('content-disposition')).toMatch(/attachment; filename="loads-.+\.html"/)
    expect(await html.text()).toContain('loads-data')

    // Another run, from the page's New run.
    const before = server.arrivals.length
    await page.click('.web-new')
    await page.fill('#web-users', '2')
    await page.fill('#web-duration', '1s')
    await page.click('.web-start')
    await page.waitForSelector('[data-web-after]', { timeout: 20_000 })
    const second = (await (await fetch(new URL('api/result.json', url))).json()) as RunResult
    expect(second.run.runId).not.toBe(first.run.runId)
    expect(second.run.plan.steps).toEqual([{ users: 2, durationMs: 1000 }])
    expect(second.summary.hits).toBe(server.arrivals.length - before)

    // Cross-origin starts are refused like every other control request.
    expect((await fetch(new URL('api/start', url), { method: 'POST', headers: { origin: 'http://evil.example' }, body: '{}' })).status).toBe(403)

    run.kill('SIGINT')
    const r = await run.done
    expect(r.code).toBe(130)
    expect(server.arrivals.length).toBe(before + second.summary.hits)
    expect(watch.errors).toEqual([])
    await page.close()
  }, 60_000)
})
