/**
 * The dashboard and the report of a cluster run: a real nats-server, two real agents, the runner
 * as a real process. The outputs only read the merged stream, so they show each agent's state,
 * Stop stops the cluster run, and --attach gets the same outputs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import type { Browser } from 'playwright-core'
import { clusterEnv, idle, reportedHits, startAgents, waitForAgents, type AgentProcess, SITE_TEST } from '../helpers/agents.js'
import { canvasSizes, launchChromium, tableRows, watchedPage } from '../helpers/browser.js'
import { LOADS_RUNNER, runBin, startDashboardRun, tempProject } from '../helpers/cli.js'
import { ctlInProcess, within } from '../helpers/live-runs.js'
import { startCountingServer, type CountingServer } from '../helpers/counting-server.js'
import { startNatsServer, type NatsServer } from '../helpers/nats-server.js'
import type { RunResult } from '../../src/report/result.js'


let nats: NatsServer
let target: CountingServer
let agents: AgentProcess[]
let env: NodeJS.ProcessEnv
let cwd: string
let browser: Browser

beforeAll(async () => {
  ;[nats, target] = await Promise.all([
    startNatsServer(),
    startCountingServer((_req, res) => {
      setTimeout(() => {
        res.writeHead(200, { 'content-type': 'text/plain' })
        res.end('ok')
      }, 3)
    }),
  ])
  env = clusterEnv(nats)
  agents = startAgents(2, env)
  cwd = tempProject({ 'site.ts': SITE_TEST })
  browser = await launchChromium()
  await waitForAgents(nats, idle(agents))
}, 60_000)

afterAll(async () => {
  await browser?.close()
  await Promise.all((agents ?? []).map((a) => a.kill()))
  await Promise.all([nats?.stop(), target?.close()])
})

describe('the dashboard of a cluster run', () => {
  it('shows each agent, stops the whole cluster run with Stop, and --attach gets the same report', async () => {
    const before = target.count
    // A failed assertion must not leave the runner driving the agents: startDashboardRun kills it.
    const run = startDashboardRun(LOADS_RUNNER, ['site.ts:Site.test_hit', '-u', '2', '-d', '40s', '--agents', '2', '--server-url', target.url, '--dashboard', '0', '--output', 'json:cluster.json', '--threshold', 'errors<1%'], {
      cwd,
      env,
      timeoutMs: 90_000,
    })
    const url = await run.url
    const { page, watch } = await watchedPage(browser, { width: 1366, height: 768 })
    await page.goto(url)
    await page.waitForFunction(() => document.querySelectorAll('#sources tbody tr[data-state="running"]').length === 2, undefined, { timeout: 30_000 })
    expect(await page.$eval('#sources', (t) => t.closest('.panel')?.querySelector('h2')?.textContent)).toBe('Agents')
    const rows = await tableRows(page, 'sources')
    for (const a of agents) expect(rows.some((r) => r[0]!.endsWith(`-${a.pid}`)), JSON.stringify(rows)).toBe(true)
    const hits = async (): Promise<number> => Number((await page.textContent('[data-kpi="hits"] .kpi-value'))!.replaceAll(',', ''))
    const first = await hits()
    await page.waitForFunction((n) => Number(document.querySelector('[data-kpi="hits"] .kpi-value')?.textContent?.replaceAll(',', '')) > n, first, { timeout: 10_000 })
    await page.waitForFunction(() => document.querySelectorAll('[data-chart] canvas').length === 6)
    for (const c of await canvasSizes(page)) expect(c.width * c.height, c.chart).toBeGreaterThan(0)

    await page.click('button.stop')
    const r = await run.done
    expect(r.code).toBe(130)
    const total = target.count - before
    expect(reportedHits(r.stdout)).toBe(total)
    await page.waitForFunction(() => document.querySelector('.badge')?.textContent === 'interrupted · exit 130', undefined, { timeout: 10_000 })
    expect(watch.errors).toEqual([])
    await page.close()

    const result = JSON.parse(readFileSync(path.join(cwd, 'cluster.json'), 'utf8')) as RunResult
    expect(result.run.mode).toBe('cluster')
    expect(result.state).toBe('interrupted')
    expect(result.summary.hits).toBe(total)
    expect(result.sources).toHaveLength(2)
    expect(result.sources.reduce((n, s) => n + s.hits, 0)).toBe(total)

    // Following the finished run again gives the same numbers, in the same outputs.
    const attached = await runBin(LOADS_RUNNER, ['--attach', result.run.runId, '--report', 'attached.html', '--threshold', 'errors<1%'], { cwd, env, timeoutMs: 60_000 })
    expect(reportedHits(attached.stdout)).toBe(total)
    expect(attached.stdout).toContain('  pass  errors<1%')
    const report = await watchedPage(browser)
    await report.page.goto(pathToFileURL(path.join(cwd, 'attached.html')).href)
    await report.page.waitForSelector('#sources tbody tr')
    const sources = await tableRows(report.page, 'sources')
    expect(sources).toHaveLength(2)
    expect(sources.reduce((n, row) => n + Number(row[4]!.replaceAll(',', '')), 0)).toBe(total)
    expect(await report.page.textContent('[data-kpi="hits"] .kpi-value')).toBe(total.toLocaleString('en-US'))
    await report.page.close()

    // --attach with the dashboard: the same server, fed by the replayed stream.
    const follow = startDashboardRun(LOADS_RUNNER, ['--attach', result.run.runId, '--dashboard', '0', '--dashboard-keep', '-q'], { cwd, env, timeoutMs: 60_000 })
    const dash = await follow.url
    let summary: { state: string; summary: { hits: number } } | undefined
    for (let i = 0; i < 200 && summary === undefined; i++) {
      const res = await fetch(`${dash}api/summary`)
      if (res.status === 200) summary = (await res.json()) as typeof summary
      else await new Promise((r) => setTimeout(r, 100))
    }
    expect(summary?.summary.hits).toBe(total)
    const apiRun = (await (await fetch(`${dash}api/run`)).json()) as { run: { mode: string; runId: string }; sources: unknown[] }
    expect(apiRun.run).toMatchObject({ mode: 'cluster', runId: result.run.runId })
    expect(apiRun.sources).toHaveLength(2)
    await fetch(`${dash}api/stop`, { method: 'POST' })
    expect(reportedHits((await follow.done).stdout)).toBe(total)
  }, 120_000)

  it("an --attach session's page shows the changes others make as they happen, and makes its own", async () => {
    const submitted = await runBin(LOADS_RUNNER, ['site.ts:Site.test_hit', '-u', '1', '-d', '2m', '--agents', '2', '--server-url', target.url, '--detach'], { cwd, env, timeoutMs: 60_000 })
    const id = /^run (\S+) submitted to 2 agents/m.exec(submitted.stdout)?.[1]
    expect(id, submitted.stdout + submitted.stderr).toBeDefined()
    const follow = startDashboardRun(LOADS_RUNNER, ['--attach', id!, '--dashboard', '0', '--output', 'json:attach-live.json'], { cwd, env, timeoutMs: 150_000 })
    const ctl = (...args: string[]): ReturnType<typeof ctlInProcess> => ctlInProcess(cwd, env, ...args)
    try {
      const { page, watch } = await watchedPage(browser, { width: 1366, height: 900 })
      await page.goto(await follow.url)
      await page.waitForSelector('.control-pause', { state: 'visible', timeout: 60_000 })

      // Paused from elsewhere (loads ctl): the attach session's page says so as it happens.
      expect((await ctl('pause', '--run', id!)).code).toBe(0)
      await page.waitForFunction(() => document.querySelector('.control-pause')?.textContent === 'Resume', undefined, { timeout: 15_000 })
      expect(await page.textContent('.step')).toMatch(/^Plan: 1 user for 2m, paused at \d\d:\d\d by the CLI$/)
      expect(await page.textContent('[data-changes] li')).toMatch(/^paused at \d\d:\d\d by the CLI$/)
      await settledCount()
      const quiet = target.count
      await new Promise((r) => setTimeout(r, 1000))
      expect(target.count).toBe(quiet)

      // Resumed and scaled from the attach session's page: recorded as made by an --attach session.
      await page.click('.control-pause')
      await page.waitForFunction(() => document.querySelector('.control-pause')?.textContent === 'Pause', undefined, { timeout: 15_000 })
      await page.waitForFunction((n) => Number(document.querySelector('[data-kpi="hits"] .kpi-value')?.textContent?.replaceAll(',', '')) > n, 0, { timeout: 15_000 })
      const connectionsBefore = target.connections
      await page.fill('#control-value', '4')
      await page.click('.control-apply')
      await page.waitForFunction(() => document.querySelectorAll('[data-changes] li').length === 3, undefined, { timeout: 15_000 })
      expect(await page.textContent('.step')).toMatch(/^Plan: 1 user for 2m, changed at \d\d:\d\d to 4 users by an --attach session$/)
      const status = await ctl('status', '--run', id!)
      expect(status.stdout).toBe(`run ${id}: running, on 2 agents; changes: paused by cli, resumed by attach, 4 users by attach\n`)
      // 4 users in all: one more on each agent, each on a connection of its own.
      await within(15_000, '2 more users connected', () => target.connections === connectionsBefore + 2)

      expect((await ctl('stop', '--run', id!)).code).toBe(0)
      const a = await follow.done
      expect(a.code).toBe(130)
      const result = JSON.parse(readFileSync(path.join(cwd, 'attach-live.json'), 'utf8')) as RunResult
      expect(result.changes?.map((c) => [c.action, c.by])).toEqual([
        ['pause', 'cli'],
        ['resume', 'attach'],
        ['scale', 'attach'],
        ['stop', 'cli'],
      ])
      expect(watch.errors).toEqual([])
      await page.close()
    } finally {
      await ctl('stop', '--run', id!)
      follow.kill('SIGKILL')
      await waitForAgents(nats, idle(agents), 30_000).catch(() => {})
    }

    /** Waits until the server has counted no new request for 500 ms (requests in flight at the pause land first). */
    async function settledCount(): Promise<void> {
      for (let last = -1; last !== target.count; ) {
        last = target.count
        await new Promise((r) => setTimeout(r, 500))
      }
    }
  }, 180_000)
})
