/**
 * A saved result whose histograms were edited or cut short is refused by every `loads report`
 * path — the HTML report, a comparison, a merge, `--threshold` — with exit 2, the file and the
 * histogram named, and no stack trace; never merged, compared or judged into wrong percentiles.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LOADS, LOADS_RUNNER, runBin, tempProject } from '../helpers/cli.js'
import { startCountingServer, type CountingServer } from '../helpers/counting-server.js'

const EXAMPLE = `
import { TestCase } from 'loads-runner'
export class TestApi extends TestCase {
  async test_api() {
    await this.session.get(process.env.TARGET + '/api')
  }
}
`

describe('loads report with a corrupt histogram', () => {
  let server: CountingServer
  let dir: string
  beforeAll(async () => {
    server = await startCountingServer()
    dir = tempProject({ 'example.ts': EXAMPLE })
    const r = await runBin(LOADS_RUNNER, ['example.TestApi.test_api', '-u', '2', '-c', '10', '-w', '1', '-q', '--output', 'json:good.json'], { cwd: dir, env: { TARGET: server.url } })
    expect(r.code, r.stdout + r.stderr).toBe(0)
    const good = JSON.parse(readFileSync(path.join(dir, 'good.json'), 'utf8'))
    const enc: string = good.histograms.endpoints[0].latency
    // Cut short: it still decodes, with fewer values than the endpoint's 20 hits.
    const cut = structuredClone(good)
    cut.histograms.endpoints[0].latency = enc.slice(0, enc.length - 8)
    writeFileSync(path.join(dir, 'cut.json'), JSON.stringify(cut))
    // Garbled: it does not decode at all.
    const garbled = structuredClone(good)
    garbled.histograms.latency = 'not a histogram!'
    writeFileSync(path.join(dir, 'garbled.json'), JSON.stringify(garbled))
  }, 90_000)
  afterAll(() => server.close())

  it('is refused by the report, a comparison, a merge and --threshold: exit 2, named, no stack trace', async () => {
    const cases: [string[], RegExp][] = [
      [['report', 'cut.json', '-o', 'cut.html'], /error: \S*cut\.json: the histogram of GET \/api is corrupt \(it holds \d+ latencies where the summary counts 20 hits\)/],
      [['report', 'good.json', 'cut.json'], /error: \S*cut\.json: the histogram of GET \/api is corrupt/],
      [['report', 'good.json', 'garbled.json', '--merge', '-o', 'all.json'], /error: \S*garbled\.json: the histogram of the whole run \(latency\) is corrupt \(/],
      [['report', 'garbled.json', '--threshold', 'p95<10s'], /error: \S*garbled\.json: the histogram of the whole run \(latency\) is corrupt/],
    ]
    const results = await Promise.all(cases.map(([args]) => runBin(LOADS, args, { cwd: dir })))
    results.forEach((r, i) => {
      const [args, says] = cases[i]!
      const what = `${args.join(' ')}:\n${r.stdout}${r.stderr}`
      expect(r.code, what).toBe(2)
      expect(r.stderr, what).toMatch(says)
      expect(r.stderr, what).toContain('hint: the file was edited or cut short')
      expect(r.stderr, what).not.toMatch(/\n\s+at |internal error/)
    })
    // The untouched file still reports.
    const ok = await runBin(LOADS, ['report', 'good.json', '-o', 'good.html'], { cwd: dir })
    expect(ok.code, ok.stdout + ok.stderr).toBe(0)
  }, 90_000)
})
