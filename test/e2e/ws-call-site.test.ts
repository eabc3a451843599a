/**
 * WebSocket failures after the socket opened — a receive on a connection the server dropped
 * (1006), a receive that times out, a send on a connection the server closed — are raised by
 * socket events and timers, yet their tracebacks point at the test's line that made the call
 * (issue 14, item 6). Against a real WebSocket server that misbehaves on purpose and counts what
 * it received.
 */
import { readFileSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WebSocketServer, type WebSocket } from 'ws'
import type { RunResult } from '../../src/report/result.js'
import { LOADS_RUNNER, runBin, tempProject, testResult } from '../helpers/cli.js'
import { resetOnRetry } from '../helpers/retry-reset.js'

const TEST = `import { TestCase } from 'loads-runner'

export class Bad extends TestCase {
  async test_dropped() {
    const ws = await this.createWs(process.env.WS_URL + '/drop').connect()
    await ws.send('drop')
    await ws.receive() // RECEIVE-DROPPED
  }

  async test_silent() {
    const ws = await this.createWs(process.env.WS_URL + '/silent').connect()
    await ws.send('silent')
    const reply = ws.receive({ timeoutMs: 200 })
    await reply // AWAIT-SILENT
  }

  async test_send_after_close() {
    const ws = await this.createWs(process.env.WS_URL + '/closing').connect()
    await ws.send('close-me')
    await ws.receive().catch(() => undefined)
    await ws.send('late') // SEND-CLOSED
  }
}
`

/** The 1-based line of the test source that carries `marker`. */
function lineOf(marker: string): number {
  return TEST.split('\n').findIndex((l) => l.includes(marker)) + 1
}

/** `drop`: the server destroys the socket (no close frame: 1006); `close-me`: it closes with 1011; `silent`: no answer. */
async function startMisbehavingServer() {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 })
  await new Promise<void>((resolve) => wss.once('listening', resolve))
  const seen = { opened: 0, messages: [] as string[] }
  const sockets = new Set<WebSocket>()
  // A retried test counts the opens and messages of its own run only.
  const forget = resetOnRetry(() => {
    seen.opened = 0
    seen.messages.length = 0
  })
  wss.on('connection', (socket) => {
    seen.opened++
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('message', (data) => {
      const text = String(data)
      seen.messages.push(text)
      if (text === 'drop') socket.terminate()
      else if (text === 'close-me') socket.close(1011, 'going away on purpose')
    })
  })
  return {
    url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        forget()
        for (const s of sockets) s.terminate()
        wss.close(() => resolve())
      }),
  }
}

describe('WebSocket failures after open point at the test\'s line', () => {
  let server: Awaited<ReturnType<typeof startMisbehavingServer>>
  let dir: string
  beforeAll(async () => {
    server = await startMisbehavingServer()
    dir = tempProject({ 'bad.ts': TEST })
  })
  afterAll(() => server.close())

  it('a dropped connection, a receive timeout and a send after the server closed: each traceback at its own line', async () => {
    const r = await runBin(LOADS_RUNNER, ['bad.Bad', '-u', '1', '-c', '2', '-q', '--output', 'json:out.json'], { cwd: dir, env: { WS_URL: server.url } })
    expect(r.code).toBe(1)
    expect(testResult(r.stdout)).toEqual({ run: 6, errors: 6, failures: 0 })
    // What the server saw: 6 opens, each test's one message twice; 'late' never left the client.
    expect(server.seen.opened).toBe(6)
    expect([...server.seen.messages].sort()).toEqual(['close-me', 'close-me', 'drop', 'drop', 'silent', 'silent'])

    const { summary } = JSON.parse(readFileSync(path.join(dir, 'out.json'), 'utf8')) as RunResult
    const group = (test: string) => summary.errors.filter((g) => g.test === test)
    const [dropped] = group('Bad.test_dropped')
    const [silent] = group('Bad.test_silent')
    const [closed] = group('Bad.test_send_after_close')
    expect([dropped?.count, silent?.count, closed?.count]).toEqual([2, 2, 2])
    expect(dropped!.message).toMatch(/cannot receive: the connection closed \(code 1006\)/)
    expect(silent!.message).toMatch(/no message within 200 ms/)
    expect(closed!.message).toMatch(/cannot send: the connection closed \(code 1011, going away on purpose\)/)
    // Each stack's first frame is the test's own line that awaited the failed call.
    const firstFrame = (stack: string): string => stack.split('\n').find((l) => /^\s+at /.test(l)) ?? ''
    expect(firstFrame(dropped!.stack)).toContain(`${dir}/bad.ts:${lineOf('RECEIVE-DROPPED')}:`)
    expect(firstFrame(silent!.stack)).toContain(`${dir}/bad.ts:${lineOf('AWAIT-SILENT')}:`)
    expect(firstFrame(closed!.stack)).toContain(`${dir}/bad.ts:${lineOf('SEND-CLOSED')}:`)
    // The console's traceback says the same.
    expect(r.stdout).toContain(`${dir}/bad.ts:${lineOf('RECEIVE-DROPPED')}:`)

    const ws = summary.endpoints.filter((e) => e.method === 'WS').map((e) => [e.name, e.hits, e.ws?.closeCodes])
    expect(ws.sort()).toEqual([
      ['/closing', 2, { '1011': 2 }],
      ['/drop', 2, { '1006': 2 }],
      // Never closed by the test: the engine closes it when the user ends (1001).
      ['/silent', 2, { '1001': 2 }],
    ])
  }, 60_000)
})
