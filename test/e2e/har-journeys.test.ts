import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { harTestModule } from '../../src/shell/test-module.js'
import { LOADS, LOADS_RUNNER, ROOT, runBin, tempProject, testResult } from '../helpers/cli.js'
import { resetOnRetry } from '../helpers/retry-reset.js'
// Plain JavaScript, so that scripts/record-har-journeys.mjs can start the same app.
import { startStrictApp } from '../helpers/strict-app.mjs'

interface StrictApp {
  origin: string
  stats: { logins: number; sessions: Set<string>; refused: Record<string, number>; routes: Record<string, number>; uploads: number[]; blobs: number[]; createdBySession: Record<string, number>; arrivals: [string, number][] }
  close(): Promise<void>
}

/** Empties the app's counts in place (the app holds the objects). */
function forgetStats(stats: StrictApp['stats']): void {
  stats.logins = 0
  stats.sessions.clear()
  for (const record of [stats.refused, stats.routes, stats.createdBySession]) for (const key of Object.keys(record)) delete record[key]
  stats.uploads.length = 0
  stats.blobs.length = 0
  stats.arrivals.length = 0
}

/**
 * The CI measurement of HAR import: Chromium recordings (scripts/record-har-journeys.mjs) of a
 * strict app — per-session CSRF tokens in a form, a meta tag and a double-submit cookie, an
 * Origin check, ids the server makes — converted, then replayed with -u 2 -c 3 against a fresh
 * instance of the app, so every recorded token and id is stale and only live correlation works.
 */
const JOURNEYS_DIR = path.join(ROOT, 'test', 'fixtures', 'har', 'journeys')
const JOURNEYS = readdirSync(JOURNEYS_DIR).filter((f) => f.endsWith('.har')).sort()

describe('loads har: recorded journeys replay for many users', () => {
  let app: StrictApp
  let dir: string
  // A retried test sees only its own attempt in the app's counts (its sessions live on: tokens
  // a failed attempt was given stay valid, and no retry asserts on the app's session store).
  const forget = resetOnRetry(() => forgetStats(app.stats))
  beforeAll(async () => {
    app = (await startStrictApp()) as StrictApp
    dir = tempProject(Object.fromEntries(JOURNEYS.map((file) => [file, readFileSync(path.join(JOURNEYS_DIR, file), 'utf8')])))
  })
  afterAll(() => {
    forget()
    return app.close()
  })

  it('converts 4 of 4 journeys and 4 of 4 pass 6 of 6 runs under -u 2 -c 3, each run its own login and session', async () => {
    let converted = 0
    let passing = 0
    for (const har of JOURNEYS) {
      const test = har.replace(/\.har$/, '_test.ts').replace(/-/g, '_')
      // Converted in-process (the CLI path is the next test's): what `loads har FILE -o TEST` writes.
      try {
        writeFileSync(path.join(dir, test), harTestModule(readFileSync(path.join(dir, har), 'utf8')).code)
      } catch (error) {
        console.error(`${har}: not converted: ${String(error)}`)
        continue
      }
      converted++
      const logins = app.stats.logins
      const run = await runBin(LOADS_RUNNER, [test, '-u', '2', '-c', '3', '--server-url', app.origin], { cwd: dir })
      const result = testResult(run.stdout)
      if (run.code === 0 && result?.run === 6 && result.errors === 0 && result.failures === 0 && app.stats.logins - logins === 6) passing++
      else console.error(`${har}: exit ${run.code}\n${run.stdout.slice(-2000)}\n${run.stderr.slice(-1000)}`)
    }
    console.log(`HAR journeys: ${converted} of ${JOURNEYS.length} converted, ${passing} of ${JOURNEYS.length} pass 6 of 6 runs under -u 2 -c 3`)
    expect(JOURNEYS).toEqual(['binary-put.har', 'create-delete.har', 'revisit.har', 'upload.har'])
    expect({ converted, passing }).toEqual({ converted: 4, passing: 4 })
    // The server's own count: 24 logins, 24 distinct sessions, nothing refused.
    expect(app.stats.logins).toBe(24)
    expect(app.stats.sessions.size).toBe(24)
    expect(app.stats.refused).toEqual({})
    // The upload (no body in the recording) is rebuilt from the page's form with a placeholder
    // file; the 534-byte binary PUT (no body either) sends 534 placeholder bytes.
    expect(app.stats.uploads).toEqual(Array(6).fill(Buffer.byteLength('PLACEHOLDER for the file of field file\n')))
    expect(app.stats.blobs).toEqual(Array(6).fill(534))
    // Items were created 18 times (create-delete, upload, binary-put) and deleted 6 times.
    expect(app.stats.routes['POST /api/items']).toBe(18)
    expect(app.stats.routes['DELETE /api/items/{id}']).toBe(6)
  }, 240_000)

  it('names every correlated value in a comment, and warns of the upload it could not recover', async () => {
    const generated = await runBin(LOADS, ['har', 'upload.har'], { cwd: dir })
    expect(generated.code).toBe(0)
    const code = generated.stdout
    expect(code).toContain('// correlation: csrf_token: the <input name="csrf_token"> in the response to GET /login')
    expect(code).toContain('// correlation: csrf_token2: the <meta name="csrf-token"> in the response to GET /items')
    expect(code).toContain('// correlation: item_id: path segment 3 of the Location in the response to POST /api/items')
    expect(code).toContain('// correlation: location: where the response to POST /login redirects')
    expect(code).toContain('this.session.cookies.clear()')
    expect(code).toContain('Origin: origin,')
    expect(generated.stderr).toContain('warning: entry 11: the recording holds no content for the file of field "file"')
  })

  it('without correlation every run fails on the first token (the server refuses the stale CSRF field 6 times)', async () => {
    const before = app.stats.refused['csrf-form'] ?? 0
    writeFileSync(path.join(dir, 'stale_test.ts'), harTestModule(readFileSync(path.join(dir, 'create-delete.har'), 'utf8'), { correlate: false }).code)
    const run = await runBin(LOADS_RUNNER, ['stale_test.ts', '-u', '2', '-c', '3', '--server-url', app.origin], { cwd: dir })
    expect(testResult(run.stdout)).toEqual({ run: 6, errors: 0, failures: 6 })
    expect((app.stats.refused['csrf-form'] ?? 0) - before).toBe(6)
  })

  it('with --keep-cookies a user’s second and third runs start logged in: GET /login answers 302, 4 of 6 runs fail', async () => {
    const code = harTestModule(readFileSync(path.join(dir, 'revisit.har'), 'utf8'), { keepCookies: true }).code
    expect(code).not.toContain('cookies.clear()')
    writeFileSync(path.join(dir, 'kept_test.ts'), code)
    const run = await runBin(LOADS_RUNNER, ['kept_test.ts', '-u', '2', '-c', '3', '--server-url', app.origin], { cwd: dir })
    expect(testResult(run.stdout)).toEqual({ run: 6, errors: 0, failures: 4 })
  })

  it('a recording that began logged in seeds each user its own session from --data (unique): 6 of 6 runs pass, 3 items in each of 2 sessions', async () => {
    // The create-delete journey cut before its login: it starts at GET /items with the recorded
    // sid and XSRF-TOKEN cookies, which no recorded response set.
    const full = JSON.parse(readFileSync(path.join(dir, 'create-delete.har'), 'utf8')) as { log: { entries: { request: { method: string; url: string } }[] } }
    const start = full.log.entries.findIndex((e) => e.request.method === 'GET' && new URL(e.request.url).pathname === '/items')
    full.log.entries = full.log.entries.slice(start)
    const code = harTestModule(JSON.stringify(full)).code
    expect(code).toContain('this.session.cookies.set(`sid=${row["sid"] ?? ')
    expect(code).toContain('extract.cookie(this.session.cookies, "XSRF-TOKEN")')
    writeFileSync(path.join(dir, 'logged_in_test.ts'), code)
    // Two real sessions, made the way a browser makes them, one per user.
    const rows: string[] = ['sid,XSRF-TOKEN']
    for (let user = 0; user < 2; user++) {
      const form = await fetch(`${app.origin}/login`)
      const anonymous = /sid=([^;]+)/.exec(form.headers.getSetCookie().join('\n'))![1]!
      const csrf = /name="csrf_token" value="([^"]+)"/.exec(await form.text())![1]!
      const login = await fetch(`${app.origin}/login`, {
        method: 'POST',
        redirect: 'manual',
        headers: { origin: app.origin, cookie: `sid=${anonymous}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ csrf_token: csrf, username: `user${user}`, password: 'secret' }).toString(),
      })
      const cookies = login.headers.getSetCookie().join('\n')
      rows.push(`${/sid=([^;]+)/.exec(cookies)![1]},${/XSRF-TOKEN=([^;]+)/.exec(cookies)![1]}`)
    }
    writeFileSync(path.join(dir, 'sessions.csv'), `${rows.join('\n')}\n`)
    const before = { ...app.stats.createdBySession }
    const run = await runBin(LOADS_RUNNER, ['logged_in_test.ts', '-u', '2', '-c', '3', '--server-url', app.origin, '--data', 'sessions.csv', '--data-mode', 'unique'], { cwd: dir })
    expect(testResult(run.stdout), run.stdout.slice(-1500)).toEqual({ run: 6, errors: 0, failures: 0 })
    const created = Object.entries(app.stats.createdBySession).filter(([sid, n]) => n !== (before[sid] ?? 0)).map(([sid, n]) => [sid, n - (before[sid] ?? 0)])
    expect(created.map(([, n]) => n)).toEqual([3, 3])
    expect(created.map(([sid]) => sid).sort()).toEqual(rows.slice(1).map((row) => row.split(',')[0]).sort())
  })

  it('with --think recorded the user pauses before each page as recorded: the server sees the gaps (476, 1262 and 143 ms)', async () => {
    const code = harTestModule(readFileSync(path.join(dir, 'revisit.har'), 'utf8'), { thinkRecorded: true }).code
    expect(code.match(/await this\.sleep\((\d+)\)/g)).toEqual(['await this.sleep(476)', 'await this.sleep(1262)', 'await this.sleep(143)'])
    writeFileSync(path.join(dir, 'think_test.ts'), code)
    const from = app.stats.arrivals.length
    const run = await runBin(LOADS_RUNNER, ['think_test.ts', '-u', '1', '-c', '1', '--server-url', app.origin], { cwd: dir })
    expect(testResult(run.stdout)).toEqual({ run: 1, errors: 0, failures: 0 })
    const seen = app.stats.arrivals.slice(from)
    expect(seen.map(([route]) => route)).toEqual(['GET /', 'GET /login', 'POST /login', 'GET /items', 'GET /api/items', 'GET /items', 'GET /api/items'])
    const gap = (i: number): number => seen[i]![1] - seen[i - 1]![1]
    expect(gap(1)).toBeGreaterThanOrEqual(476)
    expect(gap(2)).toBeGreaterThanOrEqual(1262)
    expect(gap(5)).toBeGreaterThanOrEqual(143)
  })
})
