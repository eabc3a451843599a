import { existsSync, readFileSync, rmSync } from 'node:fs'
import path from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { LOADS, LOADS_RUNNER, runBin, tempProject, testResult } from '../helpers/cli.js'
import { startServer, type CountingServer } from '../helpers/http-servers.js'
import { HAS_TMUX, TmuxSession } from '../helpers/tmux.js'
import { apiHandler } from '../helpers/shell-api.js'

/** The number of times the server received `METHOD /url`. */
function received(server: CountingServer, line: string): number {
  return server.requests.filter((r) => `${r.method} ${r.url}` === line).length
}

describe.skipIf(!HAS_TMUX)('loads shell in a pseudo-terminal (tmux)', { timeout: 120_000 }, () => {
  let server: CountingServer
  let dir: string
  let history: string
  const sessions: TmuxSession[] = []
  beforeAll(async () => {
    server = await startServer(apiHandler)
    dir = tempProject({})
    history = path.join(dir, 'history')
  })
  afterEach(() => {
    for (const s of sessions.splice(0)) s.kill()
  })
  afterAll(() => server.close())

  function shell(): TmuxSession {
    const command = `env LOADS_HISTORY=${history} FORCE_COLOR=0 ${process.execPath} ${LOADS} shell --server-url ${server.origin}`
    const s = new TmuxSession(command, { cwd: dir })
    sessions.push(s)
    return s
  }

  it('completes with Tab, keeps history between sessions, stops a .run with Ctrl-C, and .save writes a test loads-runner replays', async () => {
    // A retry starts without a failed attempt's history and saved test: what it finds there must be its own.
    for (const left of [history, path.join(dir, 'tty_test.ts')]) rmSync(left, { force: true })
    const tty = shell()
    await tty.waitFor('loads> ')
    tty.send('get /hello', 'Enter')
    await tty.waitFor('200 OK')
    expect(received(server, 'GET /hello')).toBe(1)

    // Tab completes a path already visited, and a short command's verb.
    tty.send('get /he', 'Tab')
    await tty.waitFor((screen) => screen.trimEnd().endsWith('loads> get /hello'))
    tty.send('', 'Enter')
    await tty.waitFor(() => received(server, 'GET /hello') === 2)
    tty.send('heade', 'Tab')
    await tty.waitFor((screen) => screen.trimEnd().endsWith('loads> headers'))
    tty.send(' X-Token t0k', 'Enter')
    await tty.waitFor('x-token: t0k')

    tty.send('post /items {"name":"tty"}', 'Enter')
    await tty.waitFor('201 Created')
    tty.send('.headers on', 'Enter')
    await tty.waitFor('response headers: shown')
    tty.send('get /missing', 'Enter')
    await tty.waitFor(/404 Not Found .*\n.*content-type: application\/json/)

    // A load test in progress stops on Ctrl-C, with its summary.
    tty.send('.run -u 1 -d 30s', 'Enter')
    await tty.waitFor(/progress: \d+%|hits\/s/)
    tty.send('', 'C-c')
    const stopped = await tty.waitFor('.run: exit code 130')
    expect(stopped).toContain('stopping the load test (the summary follows)')
    expect(stopped).toContain('<TestResult run=')

    tty.send('.save tty_test.ts', 'Enter')
    await tty.waitFor('saved 4 requests (4 status assertions) to tty_test.ts')
    tty.send('.exit', 'Enter')
    await tty.waitFor(() => tty.exitStatus() !== undefined)
    expect(tty.exitStatus()).toBe(0)
    expect(readFileSync(history, 'utf8')).toContain('post /items {"name":"tty"}')

    // A new session recalls the last session's lines with the Up arrow.
    const again = shell()
    await again.waitFor('loads> ')
    const posts = received(server, 'POST /items')
    const recalled = (screen: string): boolean => screen.trimEnd().endsWith('loads> post /items {"name":"tty"}')
    for (let i = 0; i < 12 && !recalled(again.screen()); i++) {
      again.send('', 'Up')
      await new Promise((resolve) => setTimeout(resolve, 150))
    }
    await again.waitFor(recalled, 2000)
    again.send('', 'Enter')
    await again.waitFor(() => received(server, 'POST /items') === posts + 1)
    again.send('.exit', 'Enter')
    await again.waitFor(() => again.exitStatus() !== undefined)

    // The saved test replays the 4 requests, headers included; every status assertion holds.
    expect(existsSync(path.join(dir, 'tty_test.ts'))).toBe(true)
    const before = server.requests.length
    const replay = await runBin(LOADS_RUNNER, ['tty_test.ts', '-u', '2', '-c', '3'], { cwd: dir })
    expect(replay.code, replay.stdout + replay.stderr).toBe(0)
    expect(testResult(replay.stdout)).toEqual({ run: 6, errors: 0, failures: 0 })
    const replayed = server.requests.slice(before)
    expect(replayed.length).toBe(24)
    expect(replayed.filter((r) => `${r.method} ${r.url}` === 'GET /hello').length).toBe(12)
    expect(replayed.filter((r) => r.method === 'POST' && r.body.toString() === '{"name":"tty"}' && r.headers['x-token'] === 't0k').length).toBe(6)
    expect(replayed.filter((r) => r.url === '/missing' && r.headers['x-token'] === 't0k').length).toBe(6)
  })

  it('runs `loads shell` piped from the terminal too (no prompt editing, same answers)', async () => {
    const s = new TmuxSession(`sh -c 'printf "get /hello\\n.exit\\n" | env LOADS_HISTORY= ${process.execPath} ${LOADS} shell --server-url ${server.origin}'`, { cwd: dir })
    sessions.push(s)
    await s.waitFor(() => s.exitStatus() !== undefined)
    expect(s.exitStatus()).toBe(0)
    expect(s.screen()).toMatch(/200 OK .* GET http:\/\/127\.0\.0\.1:\d+\/hello/)
  })
})
