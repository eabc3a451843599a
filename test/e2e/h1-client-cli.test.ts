import net from 'node:net'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LOADS_RUNNER, runBin, tempProject, testResult } from '../helpers/cli.js'
import { eachRequest } from '../helpers/wire-servers.js'

const TEST = `
import { TestCase } from 'loads-runner'

export class Target extends TestCase {
  async test_get() {
    await this.session.get(process.env.TARGET + '/item')
  }
}
`

/**
 * The HTTP/1.1 client through the CLI: a server that trickles forever is cut at --timeout (at 2 s
 * and at 11 s: from 10 s up the old sweep never fired while bytes kept coming), and a server that
 * sends a smuggled response after each real one gets no hit booked against the wrong request.
 */
describe('the HTTP/1.1 client through the CLI', () => {
  let dir: string
  const servers: net.Server[] = []
  const sockets = new Set<net.Socket>()
  beforeAll(() => {
    dir = tempProject({ 'target.ts': TEST })
  })
  afterAll(async () => {
    for (const s of sockets) s.destroy()
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))))
  })

  async function listen(onSocket: (socket: net.Socket) => void): Promise<number> {
    const server = net.createServer((socket) => {
      sockets.add(socket)
      socket.on('error', () => {})
      socket.on('close', () => sockets.delete(socket))
      onSocket(socket)
    })
    servers.push(server)
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    return (server.address() as AddressInfo).port
  }

  it('cuts a response head trickling a byte every 500 ms at --timeout 2s and at --timeout 11s', async () => {
    /** How long each connection lived, ms, from accept to the client closing it. */
    const lifetimes: number[] = []
    const port = await listen((socket) => {
      const accepted = performance.now()
      const timer = setInterval(() => socket.write('x'), 500)
      socket.once('data', () => socket.write('HTTP/1.1 200 OK\r\nX-Slow: '))
      socket.on('close', () => {
        clearInterval(timer)
        lifetimes.push(performance.now() - accepted)
      })
    })
    const env = { TARGET: `http://127.0.0.1:${port}` }
    const [two, eleven] = await Promise.all(
      ['2s', '11s'].map((timeout) => runBin(LOADS_RUNNER, ['target.Target.test_get', '-u', '1', '-c', '1', '-q', '--timeout', timeout], { cwd: dir, env })),
    )
    for (const r of [two!, eleven!]) {
      expect(r.code).toBe(1)
      expect(testResult(r.stdout)).toEqual({ run: 1, errors: 1, failures: 0 })
      expect(r.stdout).toMatch(/GET +\/item +1 .* TIMEOUT×1/)
    }
    expect(two!.stdout).toContain('timed out after 2000 ms (the whole request')
    expect(eleven!.stdout).toContain('timed out after 11000 ms (the whole request')
    // The hit's own latency: never early; late only by the loaded machine's delays. The summary
    // prints the histogram's value, kept to 3 significant digits: 11000 may read as 10994.
    const latencyMs = (stdout: string): number => Number(/Latency \(ms\): min ([\d.]+)/.exec(stdout)?.[1])
    expect(latencyMs(two!.stdout)).toBeGreaterThanOrEqual(2000 - 2)
    expect(latencyMs(two!.stdout)).toBeLessThan(2600)
    expect(latencyMs(eleven!.stdout)).toBeGreaterThanOrEqual(11_000 - 11)
    expect(latencyMs(eleven!.stdout)).toBeLessThan(11_600)
    expect(lifetimes).toHaveLength(2)
  }, 90_000)

  it('books at most one smuggled response per user against a request, then none: the server counts every hit', async () => {
    let requests = 0
    const port = await listen((socket) => {
      socket.setNoDelay(true)
      eachRequest(socket, () => {
        requests++
        socket.write('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello')
        socket.write('HTTP/1.1 404 Smuggled\r\nContent-Length: 8\r\n\r\nSMUGGLED')
      })
    })
    const r = await runBin(LOADS_RUNNER, ['target.Target.test_get', '-u', '5', '-c', '40', '-q'], { cwd: dir, env: { TARGET: `http://127.0.0.1:${port}` } })
    expect(testResult(r.stdout)).toEqual({ run: 200, errors: 0, failures: 0 })
    expect(requests).toBe(200)
    expect(r.stdout).toMatch(/GET +\/item +200 /)
    // A smuggled response that arrives after the next request was written is, to any HTTP/1.1
    // client, that request's response; once seen, the user's connection is never reused, so each
    // of the 5 users can be misled at most once (on a quiet machine: none).
    const smuggled = Number(/404×(\d+)/.exec(r.stdout)?.[1] ?? 0)
    expect(smuggled).toBeLessThanOrEqual(5)
    expect(r.stdout).toMatch(/Connections dropped: stray bytes from the server: \d+/)
  }, 90_000)
})
