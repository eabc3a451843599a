import { copyFileSync, mkdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunResult } from '../../src/report/result.js'
import { LOADS_RUNNER, runBin, tempProject, testResult } from '../helpers/cli.js'
import { PROTO_DIR, startShopServer, type ShopServer } from '../helpers/grpc-server.js'

const TEST = `
import { TestCase } from 'loads-runner'

export class Shop extends TestCase {
  async test_all() {
    const shop = this.grpc(process.env.TARGET, { proto: 'protos/shop.proto', metadata: { 'x-user': 'cli' } })
    const item = await shop.unary('GetItem', { id: 3 })
    this.assertEqual(item.name, 'item-3')
    const list = await shop.serverStream('ListItems', { count: 4 })
    this.assertEqual(list.messages.length, 4)
    const added = await shop.clientStream('AddItems', [{ id: 1 }, { id: 2 }])
    this.assertEqual(added.count, 2)
    const chat = await shop.bidi('Chat', [{ text: 'hi' }])
    this.assertEqual(chat.messages[0].text, 'HI')
  }
}

export class Bad extends TestCase {
  async test_missing() {
    await this.grpc(process.env.TARGET, { proto: 'protos/shop.proto' }).unary('GetItem', { id: 404 })
  }

  async test_no_proto() {
    this.grpc(process.env.TARGET, { proto: 'protos/nope.proto' })
  }
}
`

/**
 * `address` (a test making each of the four kinds of call once a run) with 3 users × 4 runs on 2
 * workers against `server`: every call one GRPC hit, equal to the server's own counts.
 */
async function twelveRuns(address: string, dir: string, server: ShopServer): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const r = await runBin(LOADS_RUNNER, [address, '-u', '3', '-c', '4', '-w', '2'], {
    cwd: dir,
    env: { TARGET: `127.0.0.1:${server.port}` },
  })
  expect(r.stderr).toBe('')
  expect(r.code).toBe(0)
  expect(testResult(r.stdout)).toEqual({ run: 12, errors: 0, failures: 0 })
  expect(server.counts.calls).toEqual({ GetItem: 12, ListItems: 12, AddItems: 12, Chat: 12 })
  expect(r.stdout).toMatch(/Hits: 48\b/)
  expect(r.stdout).toMatch(/GRPC +\/shop\.Shop\/GetItem +12 .* OK×12/)
  // Messages each way: client → server 1 + 1 + 2 + 1, server → client 1 + 4 + 1 + 1 per run.
  expect(r.stdout).toMatch(/\/shop\.Shop\/ListItems +12 +48 +12 /)
  return r
}

describe('gRPC from the command line: the .proto files travel with the test bundle', () => {
  let server: ShopServer
  let dir: string
  beforeAll(async () => {
    server = await startShopServer()
    // The test runs from a folder of its own: the protos it names are bundled, then written out by each worker.
    dir = tempProject({ 'shop_test.ts': TEST })
    mkdirSync(path.join(dir, 'protos'))
    for (const f of ['shop.proto', 'money.proto']) copyFileSync(path.join(PROTO_DIR, f), path.join(dir, 'protos', f))
  })
  afterAll(() => server.close())

  it('3 users × 4 runs in 2 workers: every call a GRPC hit, hits and messages equal the server\'s counts', async () => {
    const r = await twelveRuns('shop_test.Shop.test_all', dir, server)
    expect(server.counts.messagesIn).toBe(12 * 5)
    expect(server.counts.messagesOut).toBe(12 * 7)
    expect(server.counts.users).toEqual(new Set(['cli']))
  }, 60_000)

  it('a status other than OK is a counted status and a test error; a missing .proto is a clear test error (exit 1)', async () => {
    const r = await runBin(LOADS_RUNNER, ['shop_test.Bad', '-u', '1', '-c', '2', '-w', '1'], {
      cwd: dir,
      env: { TARGET: `127.0.0.1:${server.port}` },
    })
    expect(r.code).toBe(1)
    expect(testResult(r.stdout)).toEqual({ run: 4, errors: 4, failures: 0 })
    expect(r.stdout).toMatch(/GRPC +\/shop\.Shop\/GetItem +2 .* NOT_FOUND×2/)
    expect(r.stdout).toContain('/shop.Shop/GetItem: NOT_FOUND: no item 404')
    expect(r.stdout).toContain(`gRPC: protos/nope.proto not found next to the test file (looked in ${dir})`)
    expect(r.stderr).not.toMatch(/at .*node_modules/)
  }, 60_000)
})

const REFLECT_TEST = `
import { TestCase } from 'loads-runner'

export class Reflect extends TestCase {
  async test_all() {
    const shop = this.grpc(process.env.TARGET, { reflect: true })
    const item = await shop.unary('GetItem', { id: 3 })
    this.assertEqual(item.name, 'item-3')
    const list = await shop.serverStream('ListItems', { count: 4 })
    this.assertEqual(list.messages.length, 4)
    const added = await shop.clientStream('AddItems', [{ id: 1 }, { id: 2 }])
    this.assertEqual(added.count, 2)
    const chat = await shop.bidi('Chat', [{ text: 'hi' }])
    this.assertEqual(chat.messages[0].text, 'HI')
  }

  async test_no_reflection() {
    await this.grpc(process.env.PLAIN, { reflect: true }).unary('GetItem', { id: 1 })
  }
}
`

describe('gRPC from the command line by server reflection: no .proto file anywhere', () => {
  let server: ShopServer
  let plain: ShopServer
  let dir: string
  beforeAll(async () => {
    ;[server, plain] = await Promise.all([startShopServer(undefined, { reflection: 'v1+v1alpha' }), startShopServer()])
    dir = tempProject({ 'reflect_test.ts': REFLECT_TEST })
  })
  afterAll(() => Promise.all([server.close(), plain.close()]))

  it('3 users × 4 runs in 2 workers: one reflection call per worker, every call a GRPC hit equal to the server\'s counts', async () => {
    const r = await twelveRuns('reflect_test.Reflect.test_all', dir, server)
    // Reflection calls are not hits: 48 calls, 48 hits, and nothing named after reflection.
    expect(r.stdout).not.toContain('ServerReflection')
    expect(server.counts.reflectionCalls).toEqual({ 'grpc.reflection.v1.ServerReflection': 2 })
    expect(server.counts.reflectionRequests).toBe(2 * 2)
  }, 60_000)

  it('a server without reflection: a clear test error saying to pass proto, with its hint (exit 1), and no call reaches it', async () => {
    const r = await runBin(LOADS_RUNNER, ['reflect_test.Reflect.test_no_reflection', '-u', '1', '-c', '2', '-w', '1', '--output', 'json:no-reflection.json'], {
      cwd: dir,
      env: { PLAIN: `127.0.0.1:${plain.port}` },
    })
    expect(r.code).toBe(1)
    expect(testResult(r.stdout)).toEqual({ run: 2, errors: 2, failures: 0 })
    // The group's row, its whole message under it, and the error's hint: the summary cut the
    // message at 120 characters and printed no hint.
    const message = `gRPC: 127.0.0.1:${plain.port} has no server reflection (UNIMPLEMENTED): pass { proto: 'service.proto' } instead`
    const hint = 'neither grpc.reflection.v1.ServerReflection nor v1alpha answered; give the .proto file(s) of the service, relative to the test file'
    expect(r.stdout).toMatch(new RegExp(`^ +2 {2}error {4}LoadsError {2}Reflect\\.test_no_reflection\\n {9}\\S.*\\n {9}hint: \\S`, 'm'))
    expect(r.stdout).toContain(`\n         ${message}\n         hint: ${hint}\n`)
    const result = JSON.parse(readFileSync(path.join(dir, 'no-reflection.json'), 'utf8')) as RunResult
    expect(result.summary.errors.map((g) => [g.count, g.kind, g.message, g.hint])).toEqual([[2, 'LoadsError', message, hint]])
    expect(r.stdout).toMatch(/Hits: 0\b/)
    expect(plain.counts.calls).toEqual({})
    expect(r.stderr).not.toMatch(/at .*node_modules/)
  }, 60_000)
})
