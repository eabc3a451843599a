/**
 * A cluster run's agents table once the run is over: an agent whose results stop short (lost,
 * refused …) shows the state and the reason the JSON result carries (`sources[].unfinished`),
 * never "stopped" as if it had stopped normally, and its reason is text, never markup. In the
 * static report and on the live dashboard (the real server fed by a real Recorder and Aggregator:
 * what the runner hands its outputs, with the agents' fates as the cluster engine tells them).
 */
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Dashboard } from '../../src/report/dashboard/dashboard.js'
import { mergeResults } from '../../src/report/files/merge-results.js'
import { checkResult } from '../../src/report/files/read-result.js'
import { reportHtml } from '../../src/report/html/html-report.js'
import type { RunInfo, RunOutcome } from '../../src/report/reporter.js'
import { buildResult, runMeta, type RunResult } from '../../src/report/result.js'
import { Aggregator } from '../../src/stats/aggregator.js'
import { Recorder } from '../../src/stats/recorder.js'
import { launchChromium, tableRows, watchedPage, type PageWatch } from '../helpers/browser.js'
import { tempProject } from '../helpers/cli.js'

/** Markup that runs code if it is ever parsed as HTML (an agent's error message is not ours). */
const EVIL = '<script>window.__xss = "script"</script><img src=x onerror="window.__xss = \'img\'">'
const LOST = 'lost: no heartbeat for 15.2 s'
const REFUSED = `refused the run: ${EVIL}`

/**
 * Three agents: `agent-a` sends a snapshot each second, 10 hits and 10 passed tests in each, and
 * its final one at 3 s; `agent-b` sends 7 hits a second with 2 users for two seconds, then is
 * lost; `agent-c` refuses the run and sends nothing. The engine then tells the aggregator of b
 * and c, as the cluster engine does once the run is over.
 */
function clusterRun(startMs: number, onSnapshot: (agg: Aggregator, info: RunInfo) => void = () => {}): { info: RunInfo; outcome: RunOutcome; agg: Aggregator } {
  let now = startMs
  const clock = (): number => now
  const info: RunInfo = {
    runId: 'r-unfinished',
    address: 'site.ts:Site.test_hit',
    tests: [{ className: 'Site', methodName: 'test_hit' }],
    plan: { steps: [{ users: 4, durationMs: 3000 }] },
    mode: 'cluster',
    workers: 3,
    startMs,
  }
  const agg = new Aggregator({ startMs, now: clock })
  const a = new Recorder({ source: 'agent-a', now: clock })
  const b = new Recorder({ source: 'agent-b', now: clock })
  for (let s = 1; s <= 3; s++) {
    for (let i = 0; i < 10; i++) {
      a.recordHit('GET', '/', 200, 2000 + i * 100, 1000, 0, 2, 0, null)
      a.recordTest('pass', 'Site.test_hit')
    }
    a.setActiveUsers(s === 3 ? 0 : 2)
    if (s <= 2) {
      for (let i = 0; i < 7; i++) {
        b.recordHit('GET', '/', 200, 3000 + i * 100, 1000, 0, 2, 0, null)
        b.recordTest('pass', 'Site.test_hit')
      }
      b.setActiveUsers(2)
    }
    now = startMs + s * 1000
    agg.add(a.snapshot(s === 3))
    onSnapshot(agg, info)
    if (s <= 2) {
      agg.add(b.snapshot(false))
      onSnapshot(agg, info)
    }
  }
  agg.unfinished('agent-b', { state: 'lost', reason: LOST })
  agg.unfinished('agent-c', { state: 'refused', reason: REFUSED })
  const summary = agg.summary()
  return { info, outcome: { summary, exitCode: 3, interrupted: false, notes: [] }, agg }
}

/** The table's rows; the last column ("Heard") apart, as its age depends on the page's clock. */
async function agentRows(page: Page): Promise<{ cells: string[][]; heard: string[]; states: string[]; classes: string[] }> {
  const rows = await tableRows(page, 'sources')
  return {
    cells: rows.map((r) => r.slice(0, -1)),
    heard: rows.map((r) => r.at(-1)!),
    states: await page.$$eval('#sources tbody tr', (trs) => trs.map((tr) => tr.getAttribute('data-state') ?? '')),
    classes: await page.$$eval('#sources tbody tr td:nth-child(2) .dot', (dots) => dots.map((d) => d.className)),
  }
}

const EXPECTED = [
  ['agent-a', 'finished', '0', '1', '30', '0', '30', '0', '0'],
  // Users of an agent that stopped short: not known ("–"), not its last reported 2.
  ['agent-b', LOST, '–', '1', '14', '0', '14', '0', '0'],
  ['agent-c', REFUSED, '–', '1', '0', '0', '0', '0', '0'],
]

async function expectInert(page: Page, watch: PageWatch): Promise<void> {
  expect(await page.evaluate(() => (window as unknown as { __xss?: string }).__xss)).toBeUndefined()
  expect(await page.$$eval('#app img, #app script', (els) => els.length)).toBe(0)
  expect(watch.dialogs).toEqual([])
  expect(watch.errors).toEqual([])
}

/** Writes `result` as a static report (`name` in the test's folder) and opens it: the page and its agents table. */
async function openReport(result: RunResult, name: string): Promise<{ page: Page; watch: PageWatch; rows: Awaited<ReturnType<typeof agentRows>> }> {
  const file = path.join(dir, name)
  writeFileSync(file, reportHtml(result))
  const { page, watch } = await watchedPage(browser)
  await page.goto(pathToFileURL(file).href)
  await page.waitForSelector('#sources tbody tr')
  return { page, watch, rows: await agentRows(page) }
}

let browser: Browser
let dir: string
beforeAll(async () => {
  browser = await launchChromium()
  dir = tempProject({}) // removed after the file's tests
})
afterAll(async () => {
  await browser?.close()
})

describe('the agents table of a cluster run that is over', () => {
  it('the static report: a finished agent "finished", a lost and a refused one their state and reason as text, styled as problems', async () => {
    const start = 1_700_000_000_000
    const { info, outcome, agg } = clusterRun(start)
    const result = buildResult(runMeta(info), outcome, agg, '0.0.0')
    // What the JSON result says of them, which the page must show.
    expect(result.sources.map((s) => ({ source: s.source, final: s.final, unfinished: s.unfinished }))).toEqual([
      { source: 'agent-a', final: true, unfinished: undefined },
      { source: 'agent-b', final: false, unfinished: { state: 'lost', reason: LOST } },
      { source: 'agent-c', final: false, unfinished: { state: 'refused', reason: REFUSED } },
    ])
    const { page, watch, rows } = await openReport(result, 'report.html')
    expect(await page.$eval('#sources', (t) => t.closest('.panel')?.querySelector('h2')?.textContent)).toBe('Agents')
    // Before: agent-b and agent-c were "stopped", like an agent stopped on request, and agent-b
    // still ran "2" users beside a Users figure of 0 for the run.
    expect(rows.cells).toEqual(EXPECTED)
    expect(await page.$eval('[data-kpi="users"]', (k) => [k.querySelector('.kpi-value')?.textContent, k.querySelector('.kpi-sub')?.textContent])).toEqual(['0', 'run over'])
    // The report's clock is the run's end (3 s): a last heard at 3 s, b at 2 s, c never.
    expect(rows.heard).toEqual(['0s ago', '1s ago', '–'])
    expect(rows.states).toEqual(['finished', 'lost', 'refused'])
    expect(rows.classes).toEqual(['dot finished', 'dot unfinished', 'dot unfinished'])
    // Red, as a problem; a finished agent is not.
    const colors = await page.$$eval('#sources tbody tr td:nth-child(2)', (tds) => tds.map((td) => getComputedStyle(td).color))
    expect(colors.slice(1)).toEqual(['rgb(220, 38, 38)', 'rgb(220, 38, 38)'])
    expect(colors[0]).not.toBe('rgb(220, 38, 38)')
    expect(await page.$$eval('#sources tbody tr td:nth-child(2) .dot', (dots) => dots.map((d) => getComputedStyle(d).backgroundColor))).toEqual([
      'rgb(22, 163, 74)',
      'rgb(220, 38, 38)',
      'rgb(220, 38, 38)',
    ])
    await expectInert(page, watch)
    await page.close()
  }, 60_000)

  it('a result written before sources carried `unfinished` (same version 1): a lost agent is "stopped", its users "–"', async () => {
    const start = 1_700_000_000_000
    const { info, outcome, agg } = clusterRun(start)
    const result = buildResult(runMeta(info), outcome, agg, '0.0.0')
    // As a build before b906d9e wrote it: the lost agent's source not final and nothing more, the
    // refused agent (no snapshot) not among the sources at all. `loads report` reads it today.
    const older = checkResult(
      JSON.parse(JSON.stringify({ ...result, sources: result.sources.filter((s) => s.source !== 'agent-c').map(({ unfinished: _u, ...s }) => s) })),
      'older.json',
    )
    expect(older.sources.map((s) => [s.source, s.final, s.activeUsers, s.unfinished])).toEqual([
      ['agent-a', true, 0, undefined],
      ['agent-b', false, 2, undefined],
    ])
    const { page, watch, rows } = await openReport(older, 'older.html')
    // Before: agent-b still ran "2" users in a run that is over, beside a Users figure of 0.
    expect(rows.cells).toEqual([
      ['agent-a', 'finished', '0', '1', '30', '0', '30', '0', '0'],
      ['agent-b', 'stopped', '–', '1', '14', '0', '14', '0', '0'],
    ])
    expect(rows.states).toEqual(['finished', 'stopped'])
    expect(await page.$eval('[data-kpi="users"]', (k) => [k.querySelector('.kpi-value')?.textContent, k.querySelector('.kpi-sub')?.textContent])).toEqual(['0', 'run over'])
    await expectInert(page, watch)
    await page.close()
  }, 60_000)

  it('a merged report of two cluster runs (loads report --merge): a row per agent of each run, not one per run', async () => {
    const first = clusterRun(1_700_000_000_000)
    const second = clusterRun(1_700_000_100_000)
    const merged = mergeResults([
      buildResult(runMeta(first.info), first.outcome, first.agg, '0.0.0'),
      buildResult(runMeta(second.info), second.outcome, second.agg, '0.0.0'),
    ])
    expect(merged.run.mode).toBe('cluster')
    expect(merged.sources.map((s) => s.source)).toEqual(['run1/agent-a', 'run1/agent-b', 'run1/agent-c', 'run2/agent-a', 'run2/agent-b', 'run2/agent-c'])
    const { page, watch, rows } = await openReport(merged, 'merged.html')
    // Before: two rows, "run1" and "run2", each adding up its run's three agents (44 hits, and
    // "finished" or not by all three).
    expect(rows.cells).toEqual([...EXPECTED.map(([name, ...rest]) => [`run1/${name}`, ...rest]), ...EXPECTED.map(([name, ...rest]) => [`run2/${name}`, ...rest])])
    expect(rows.states).toEqual(['finished', 'lost', 'refused', 'finished', 'lost', 'refused'])
    await expectInert(page, watch)
    await page.close()
  }, 60_000)

  it('a result from before agents sent one source each (`agent/worker-N`): one row per agent, its workers added up', async () => {
    const { info, outcome, agg } = clusterRun(1_700_000_000_000)
    const result = buildResult(runMeta(info), outcome, agg, '0.0.0')
    const a = result.sources.find((s) => s.source === 'agent-a')!
    const b = result.sources.find((s) => s.source === 'agent-b')!
    // agent-a as two workers of the same figures, agent-b as one worker; no `unfinished` yet.
    const { unfinished: _u, ...bare } = b
    const older = checkResult(JSON.parse(JSON.stringify({ ...result, sources: [{ ...a, source: 'agent-a/worker-0' }, { ...a, source: 'agent-a/worker-1' }, { ...bare, source: 'agent-b/worker-0' }] })), 'workers.json')
    const { page, watch, rows } = await openReport(older, 'workers.html')
    expect(rows.cells).toEqual([
      ['agent-a', 'finished', '0', '1', '60', '0', '60', '0', '0'],
      ['agent-b', 'stopped', '–', '1', '14', '0', '14', '0', '0'],
    ])
    await expectInert(page, watch)
    await page.close()
  }, 60_000)

  it('the live dashboard, kept open after the run: the same rows', async () => {
    const dashboard = new Dashboard({ port: 0, stop: () => {}, keepOpen: true })
    const url = await dashboard.listen()
    try {
      const start = Date.now() - 3000
      let started = false
      const { info, outcome, agg } = clusterRun(start, (a, info) => {
        if (!started) {
          dashboard.onRunStart(info)
          started = true
        }
        dashboard.onSnapshot(undefined, a)
      })
      await dashboard.onRunEnd(outcome, agg)
      const { page, watch } = await watchedPage(browser)
      await page.goto(url)
      await page.waitForFunction(() => document.querySelector('.badge')?.textContent === 'finished · exit 3', undefined, { timeout: 15_000, polling: 100 })
      await page.waitForSelector('#sources tbody tr')
      const rows = await agentRows(page)
      expect(rows.cells).toEqual(EXPECTED)
      expect(rows.heard[2]).toBe('–')
      expect(rows.states).toEqual(['finished', 'lost', 'refused'])
      expect(rows.classes).toEqual(['dot finished', 'dot unfinished', 'dot unfinished'])
      await expectInert(page, watch)
      await page.close()
    } finally {
      await dashboard.close()
    }
  }, 60_000)
})
