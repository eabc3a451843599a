import { readFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunResult } from '../../src/report/result.js'
import { LOADS_RUNNER, runBin, tempProject, testResult } from '../helpers/cli.js'
import { startEchoServer, type EchoServer } from '../helpers/ws-servers.js'

const TEST = `
import { TestCase } from 'loads-runner'

export class Chat extends TestCase {
  async test_chat() {
    const ws = this.createWs(process.env.WS_URL + '/chat', { protocols: ['chat.v2'] })
    await ws.connect()
    this.assertEqual(ws.protocol, 'chat.v2')
    for (let i = 0; i < 3; i++) {
      await ws.send('m' + i)
      this.assertEqual((await ws.receive()).text, 'm' + i)
    }
    await ws.close()
  }

  async test_lazy() {
    // Never closed: the engine closes it (1001) when the user ends.
    const ws = await this.createWs(process.env.WS_URL + '/lazy').connect()
    await ws.send('hi')
    await ws.receive()
  }
}
`

describe('this.createWs in a load test', () => {
  let server: EchoServer
  let dir: string
  beforeAll(async () => {
    server = await startEchoServer()
    dir = tempProject({ 'ws.ts': TEST })
  })
  afterAll(() => server.close())

  it('-u 4 -c 5: the echo server and the summary agree on opens, messages and close codes', async () => {
    const r = await runBin(LOADS_RUNNER, ['ws.Chat', '-u', '4', '-c', '5', '-w', '2', '-q', '--output', 'json:ws.json'], { cwd: dir, env: { WS_URL: server.url } })
    expect(r.code).toBe(0)
    expect(testResult(r.stdout)).toEqual({ run: 40, errors: 0, failures: 0 })
    expect(server.opened).toBe(40)
    expect(server.messagesIn).toBe(80)
    expect(server.messagesOut).toBe(80)
    expect(server.closeCodes.filter((c) => c === 1000)).toHaveLength(20)
    expect(server.closeCodes.filter((c) => c === 1001)).toHaveLength(20)

    const { summary } = JSON.parse(readFileSync(path.join(dir, 'ws.json'), 'utf8')) as RunResult
    const chat = summary.endpoints.find((e) => e.method === 'WS' && e.name === '/chat')!
    expect(chat).toMatchObject({ hits: 20, statuses: { '101': 20 }, bytesIn: 120, bytesOut: 120, ws: { messagesIn: 60, messagesOut: 60, closeCodes: { '1000': 20 } } })
    const lazy = summary.endpoints.find((e) => e.method === 'WS' && e.name === '/lazy')!
    expect(lazy).toMatchObject({ hits: 20, ws: { messagesIn: 20, messagesOut: 20, closeCodes: { '1001': 20 } } })

    expect(r.stdout).toMatch(/^WebSockets:$/m)
    expect(r.stdout).toMatch(/^ {2}\/chat +20 +0 +60 +60 +120 B +120 B +1000×20$/m)
    expect(r.stdout).toMatch(/^ {2}\/lazy +20 +0 +20 +20 +40 B +40 B +1001×20$/m)
  }, 60_000)
})
