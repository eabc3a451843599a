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
import { clusterEnv, idle, reportedHits, startAgents, waitForAgents, type AgentProcess } from '../helpers/agents.js'
import { canvasSizes, launchChromium, tableRows, watchedPage } from '../helpers/browser.js'
import { LOADS_RUNNER, runBin, tempProject } from '../helpers/cli.js'
import { startCountingServer, type CountingServer } from '../helpers/counting-server.js'
import { startNatsServer, type NatsServer } from '../helpers/nats-server.js'
import type { RunResult } from '../../src/report/result.js'

const SITE = `import { TestCase } from 'loads-runner'
export class Site extends TestCase {
  async test_hit() {
    const res = await this.session.get('/')
    this.assertEqual(res.status, 200)
  }
}
`

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
  cwd = tempProject({ 'site.ts': SITE })
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
    let resolveUrl: (url: string) => void = () => {}
    const urlSeen = new Promise<string>((resolve) => (resolveUrl = resolve))
    let pid = 0
    let exited = false
    const run = runBin(LOADS_RUNNER, ['site.ts:Site.test_hit', '-u', '2', '-d', '40s', '--agents', '2', '--server-url', target.url, '--dashboard', '0', '--output', 'json:cluster.json', '--threshold', 'errors<1%'], {
      cwd,
      env,
      timeoutMs: 90_000,
      onSpawn: (p) => (pid = p),
      onStdout: (text) => {
        const m = /^dashboard: (http:\/\/127\.0\.0\.1:\d+\/)$/m.exec(text)
        if (m) resolveUrl(m[1]!)
      },
    }).finally(() => (exited = true))
    try {
      const url = await urlSeen
      const { page, watch } = await watchedPage(browser, { width: 1366, height: 768 })
      await page.goto(url)
      await page.waitForFunction(() => document.querySelectorAll('#sources tbody tr[data-state="running"]').length === 2, undefined, { timeout: 30_000 })
      expect(await page.$eval('#sources', (t) => t.closest('.panel')?.querySelector('h2')?.textContent)).toBe('Agents')
      const rows = await tableRows(page, 'sources')
      for (const a of agents) expect(rows.some((r) => r[0]!.endsWith(`-${a.pid}`)), JSON.stringify(rows)).toBe(true)
      const hits = async (): Promise<number> => Number((await page.textContent('[data-kpi="hits"] .kpi-value'))!.replaceAll(',', ''))
      const first = await hits()
      await page.waitForFunction((n) => Number(document.querySelector('[data-kpi="hits"] .kpi-value')?.textContent?.replaceAll(',', '')) > n, first, { timeout: 10_000 })
      await page.waitForFunction(() => document.querySelectorAll('[data-chart] canvas').length === 4)
      for (const c of await canvasSizes(page)) expect(c.width * c.height, c.chart).toBeGreaterThan(0)

      await page.click('button.stop')
      const r = await run
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
      let attachUrl: (url: string) => void = () => {}
      const seen = new Promise<string>((resolve) => (attachUrl = resolve))
      const follow = runBin(LOADS_RUNNER, ['--attach', result.run.runId, '--dashboard', '0', '--dashboard-keep', '-q'], {
        cwd,
        env,
        timeoutMs: 60_000,
        onStdout: (text) => {
          const m = /^dashboard: (http:\/\/127\.0\.0\.1:\d+\/)$/m.exec(text)
          if (m) attachUrl(m[1]!)
        },
      })
      const dash = await seen
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
      expect(reportedHits((await follow).stdout)).toBe(total)
    } finally {
      // A failed assertion must not leave the runner driving the agents.
      if (pid !== 0 && !exited) process.kill(pid, 'SIGKILL')
    }
  }, 120_000)
})
