/**
 * Everything a run measured is on the page (issue 14, item 3): per-URL min/mean/p99.9, TTFB,
 * connections and bytes; custom counters; WebSocket and gRPC traffic, gRPC statuses by name;
 * each test method's runs; and for an open-model run the schedule, the dropped starts and the
 * service time beside the corrected latency — checked against the servers' own counts.
 */
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Browser } from 'playwright-core'
import { launchChromium, tableRows, watchedPage } from '../helpers/browser.js'
import { LOADS_RUNNER, runBin, startDashboardRun, tempProject, testResult } from '../helpers/cli.js'
import { startCountingServer, type CountingServer } from '../helpers/counting-server.js'
import { PROTO_DIR, startShopServer, type ShopServer } from '../helpers/grpc-server.js'
import { makeSelfSignedCert } from '../helpers/http-servers.js'
import { startEchoServer, type EchoServer } from '../helpers/ws-servers.js'

const TEST = `
import { TestCase } from 'loads-runner'

export class Mixed extends TestCase {
  async test_all() {
    const res = await this.session.get(process.env.TARGET + '/page')
    this.assertEqual(res.status, 200)
    this.incrCounter('pages', 2)
    const ws = this.createWs(process.env.WS_URL + '/chat')
    await ws.connect()
    await ws.send('burst 2')
    await ws.receive((m) => m.text === 'done', { timeoutMs: 5000 })
    await ws.close()
    const shop = this.grpc(process.env.GRPC, { proto: 'protos/shop.proto' })
    await shop.unary('GetItem', { id: 3 })
    await shop.unary('GetItem', { id: 404 }).catch(() => this.incrCounter('not found'))
  }
}

export class Slow extends TestCase {
  async test_slow() {
    await this.session.get(process.env.TARGET + '/slow')
  }
}
`

let http: CountingServer
let echo: EchoServer
let grpc: ShopServer
let browser: Browser
let dir: string
beforeAll(async () => {
  http = await startCountingServer((req, res) => {
    // /slow takes 250 ms: two users cannot keep up with 20 starts a second.
    setTimeout(() => res.end('x'.repeat(100)), req.url === '/slow' ? 250 : 0)
  })
  // Over TLS (wss): its row has a TLS handshake time, the plain-HTTP rows none.
  echo = await startEchoServer(makeSelfSignedCert())
  grpc = await startShopServer()
  dir = tempProject({ 'mixed.ts': TEST })
  mkdirSync(path.join(dir, 'protos'))
  for (const f of ['shop.proto', 'money.proto']) copyFileSync(path.join(PROTO_DIR, f), path.join(dir, 'protos', f))
  browser = await launchChromium()
})
afterAll(async () => {
  await browser?.close()
  await Promise.all([http?.close(), echo?.close(), grpc?.close()])
})

/** A table's rows as objects keyed by its headings. */
async function rowsByHeading(page: import('playwright-core').Page, id: string): Promise<Record<string, string>[]> {
  const heads = await page.$$eval(`#${id} thead th`, (ths) => ths.map((th) => th.textContent ?? ''))
  const rows = await tableRows(page, id)
  return rows.map((r) => Object.fromEntries(heads.map((h, i) => [h, r[i] ?? ''])))
}

describe('the page shows everything the run measured', () => {
  it('HTTP, WebSocket and gRPC figures, counters and test methods, equal to the servers\' counts', async () => {
    const r = await runBin(LOADS_RUNNER, ['mixed.Mixed.test_all', '-u', '2', '-c', '3', '-q', '--insecure', '--report', 'out/report.html'], {
      cwd: dir,
      env: { TARGET: http.url, WS_URL: echo.url, GRPC: `127.0.0.1:${grpc.port}` },
      timeoutMs: 60_000,
    })
    expect(testResult(r.stdout)).toEqual({ run: 6, errors: 0, failures: 0 })
    expect(http.countByPath.get('/page')).toBe(6)
    expect(echo.opened).toBe(6)
    expect(grpc.counts.calls).toEqual({ GetItem: 12 })

    const { page, watch } = await watchedPage(browser)
    await page.goto(pathToFileURL(path.join(dir, 'out/report.html')).href)
    await page.waitForSelector('#endpoints tbody tr')
    const endpoints = await rowsByHeading(page, 'endpoints')
    const get = endpoints.find((e) => e['Name'] === '/page')!
    expect(get['Hits']).toBe('6')
    expect(get['↓ Bytes']).toBe('600 B')
    for (const col of ['Min ms', 'Mean ms', 'p99.9 ms', 'TTFB p50', 'TTFB p95', 'Connect ms']) expect(get[col], col).toMatch(/^\d[\d.,]*$/)
    // Two users, keep-alive: one connection each.
    expect(get['Conns']).toBe('2')
    // Plain HTTP did no TLS handshake: a gap, not 0 ms; the wss connections each did one.
    expect(get['TLS ms']).toBe('–')
    const wsRow = endpoints.find((e) => e['Method'] === 'WS')!
    expect(wsRow['Conns']).toBe('6')
    expect(wsRow['TLS ms']).toMatch(/^\d[\d.,]*$/)
    expect(Number(wsRow['TLS ms'])).toBeGreaterThan(0)
    const grpcRow = endpoints.find((e) => e['Method'] === 'GRPC')!
    expect(grpcRow['Statuses']).toBe('NOT_FOUND×6 OK×6')

    const streams = await rowsByHeading(page, 'streams')
    const ws = streams.find((s) => s['Kind'] === 'WebSocket')!
    expect([ws['Connections / calls'], ws['Messages out'], ws['Messages in'], ws['Close codes']]).toEqual(['6', String(echo.messagesIn), String(echo.messagesOut), '1000×6'])
    expect(streams.find((s) => s['Kind'] === 'gRPC')!['Statuses']).toBe('NOT_FOUND×6 OK×6')

    expect((await rowsByHeading(page, 'counters')).map((c) => [c['Counter'], c['Value']])).toEqual([
      ['pages', '12'],
      ['not found', '6'],
    ])
    expect((await rowsByHeading(page, 'groups-methods')).map((m) => [m['Group / test'], m['Runs'], m['Failures'], m['Errors']])).toEqual([['Mixed.test_all', '6', '0', '0']])
    expect(await page.$$eval('#error-kinds tbody tr td:first-child', (tds) => tds.map((td) => td.textContent))).toEqual(['gRPC NOT_FOUND'])
    expect(await page.isHidden('[data-section="open-model"]')).toBe(true)
    expect(watch.errors).toEqual([])
  }, 90_000)

  it('an open-model run shows its schedule, the dropped starts and the service time beside the latency, while it runs and after', async () => {
    // A failed assertion must not leave the kept-open runner behind (it would write into a removed folder): startDashboardRun kills it.
    const run = startDashboardRun(LOADS_RUNNER, ['mixed.Slow.test_slow', '--rate', '20', '-d', '6s', '--max-users', '2', '--dashboard', '0', '--dashboard-keep', '--output', 'json:out/open.json', '-q'], {
      cwd: dir,
      env: { TARGET: http.url },
      timeoutMs: 60_000,
    })
    const url = await run.url
    const { page, watch } = await watchedPage(browser)
    await page.goto(url)
    // The plan line is filled in by the page's first fetch, which may land after goto returns.
    // (On a loaded machine the page may open as the last runs finish.)
    await page.waitForFunction(() => (document.querySelector('.step')?.textContent ?? '') !== '', undefined, { timeout: 20_000 })
    expect(await page.textContent('.step')).toMatch(/^(Plan|Finishing step 1 of 1): rate 20\/s for 6s \(at most 2 in flight\)$/)
    // While it runs: starts are being dropped, and the page says so.
    await page.waitForFunction(() => /Dropped starts: [1-9]/.test(document.querySelector('[data-dropped]')?.textContent ?? ''), undefined, { timeout: 20_000 })
    await page.waitForFunction(() => document.querySelector('.badge')?.textContent?.startsWith('finished'), undefined, { timeout: 30_000 })
    const droppedText = await page.textContent('[data-dropped]')
    const [latency, service] = await tableRows(page, 'open-model')
    const meaning = await page.textContent('.open-model .meaning')
    expect(watch.errors).toEqual([])
    await page.close()
    // The dashboard was kept open: its Stop endpoint lets the runner exit and write its files.
    await fetch(`${url}api/stop`, { method: 'POST' })
    const r = await run.done
    expect(r.code).toBe(0)
    const result = JSON.parse(readFileSync(path.join(dir, 'out/open.json'), 'utf8')) as { summary: { dropped: number; tests: { run: number } } }
    const s = result.summary
    expect(http.countByPath.get('/slow')).toBe(s.tests.run)
    expect(s.dropped).toBeGreaterThan(0)
    expect(droppedText).toContain(`Dropped starts: ${s.dropped.toLocaleString('en-US')} of ${(s.dropped + s.tests.run).toLocaleString('en-US')} scheduled`)
    expect(latency![0]).toBe('Latency, from the scheduled start')
    expect(service![0]).toBe('Service time, from the request sent')
    const num = (t: string | undefined): number => Number((t ?? '').replaceAll(',', ''))
    // Service time is the server's 250 ms; latency from the schedule is far longer: runs waited.
    expect(num(service![2])).toBeGreaterThanOrEqual(250)
    expect(num(latency![2])).toBeGreaterThan(num(service![2]) * 1.5)
    expect(meaning).toMatch(/At p95 runs waited [\d,.]+ ms for a free user before sending .*fell behind the schedule/)
  }, 90_000)
})
