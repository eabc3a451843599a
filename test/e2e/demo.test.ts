import { createServer } from 'node:net'
import type { AddressInfo } from 'node:net'
import { describe, expect, it } from 'vitest'
import { DEMO_ROUTES } from '../../src/demo/demo-routes.js'
import { startDemoServer } from '../../src/demo/demo-server.js'
import { LOADS, LOADS_RUNNER, ROOT, runBin, testResult } from '../helpers/cli.js'

describe('loads demo', () => {
  it('runs the shipped example against the shipped target, and the target counts every hit', async () => {
    const r = await runBin(LOADS, ['demo', '-u', '2:3', '-c', '5'], { cwd: ROOT })
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('loads-runner loads.examples.test_blog.TestWebSite.test_something -u 2:3 -c 5')
    expect(testResult(r.stdout)).toEqual({ run: 25, errors: 0, failures: 0 })
    expect(r.stdout).toMatch(/^Hits: 25 /m)
    expect(r.stdout).toContain('the demo target counted 25 requests received')
  })

  it('every test of the shipped blog example passes against the demo target', async () => {
    const demo = await startDemoServer()
    try {
      const r = await runBin(LOADS_RUNNER, ['loads.examples.test_blog.TestWebSite', '-u', '3', '-c', '2', '--server-url', demo.url, '-q'], { cwd: ROOT })
      expect(r.code).toBe(0)
      // 3 tests × 3 users × 2 runs; test_log_in makes 2 requests.
      expect(testResult(r.stdout)).toEqual({ run: 18, errors: 0, failures: 0 })
      expect(demo.count()).toBe(24)
      expect(r.stdout).toMatch(/GET\s+\/posts\/\{id\}\s+6\s/)
      expect(r.stdout).toMatch(/logins\D+6\b/)
    } finally {
      await demo.close()
    }
  })

  it('lists every route of its table on its home page and in `loads demo --help`', async () => {
    const demo = await startDemoServer()
    try {
      const home = await (await fetch(`${demo.url}/`)).text()
      expect(home).toContain('Search')
      const help = await runBin(LOADS, ['demo', '--help'], { cwd: ROOT })
      expect(help.code).toBe(0)
      expect(DEMO_ROUTES.length).toBeGreaterThanOrEqual(10)
      for (const route of DEMO_ROUTES) {
        expect(help.stdout).toContain(`${route.method} ${route.path}`)
        expect(help.stdout).toContain(route.description)
        expect(home).toContain(`<code>${route.path}</code>`)
      }
      // An unknown route's 404 names the ones that exist.
      const missing = await fetch(`${demo.url}/nope`)
      expect(missing.status).toBe(404)
      expect(((await missing.json()) as { routes: string[] }).routes).toContain('POST /login')
      expect(demo.count()).toBe(2)
    } finally {
      await demo.close()
    }
  })

  it('--serve on a port in use says so and exits 2, with no stack trace', async () => {
    const busy = createServer()
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve))
    const { port } = busy.address() as AddressInfo
    try {
      const r = await runBin(LOADS, ['demo', '--serve', '--port', String(port)], { cwd: ROOT, timeoutMs: 30_000 })
      expect(r.code).toBe(2)
      expect(r.stderr).toBe(`error: loads demo --serve: cannot listen on 127.0.0.1:${port}: the port is in use\nhint: pick another --port (--port 0 picks a free one)\n`)
      expect(r.stdout).toBe('')
    } finally {
      busy.close()
    }
  })

  it('--serve on an address of no interface, or a bad port, is a usage error (exit 2)', async () => {
    const host = await runBin(LOADS, ['demo', '--serve', '--host', '192.0.2.1', '--port', '0'], { cwd: ROOT, timeoutMs: 30_000 })
    expect(host.code).toBe(2)
    expect(host.stderr).toContain('cannot listen on 192.0.2.1:0: no interface of this machine has that address')
    expect(host.stderr).not.toMatch(/\n\s+at /)
    const port = await runBin(LOADS, ['demo', '--serve', '--port', '70000'], { cwd: ROOT, timeoutMs: 30_000 })
    expect(port.code).toBe(2)
    expect(port.stderr).toContain('--port expects a port number from 0 to 65535')
  })

  it('Ctrl-C on --serve stops the target and promises no summary', async () => {
    let pid = 0
    let url = ''
    const r = await runBin(LOADS, ['demo', '--serve', '--port', '0'], {
      cwd: ROOT,
      timeoutMs: 30_000,
      onSpawn: (p) => (pid = p),
      onStdout: (text) => {
        const m = /listening on (http:\/\/\S+) /.exec(text)
        if (m && url === '') {
          url = m[1]!
          void fetch(`${url}/posts/3`).then(async (res) => {
            await res.text()
            process.kill(pid, 'SIGINT')
          })
        }
      },
    })
    expect(r.code).toBe(0)
    expect(r.stderr).toBe('\nCtrl-C: stopping the demo target (again to quit now)\n')
    expect(r.stdout).toContain('demo target received 1 requests')
  })
})
