/**
 * gRPC on a cluster: a real nats-server, two real agents, the runner as a real process, and a
 * @grpc/grpc-js server counting the calls it answered. The .proto files exist only in the
 * runner's folder: the agents get them inside the test bundle. With `reflect: true` there is
 * nothing to carry: each agent's worker asks the server.
 */
import { copyFileSync, mkdirSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { clusterEnv, idle, reportedHits, startAgents, waitForAgents, type AgentProcess } from '../helpers/agents.js'
import { LOADS_RUNNER, runBin, tempProject, testResult } from '../helpers/cli.js'
import { PROTO_DIR, startShopServer, type ShopServer } from '../helpers/grpc-server.js'
import { startNatsServer, type NatsServer } from '../helpers/nats-server.js'

const TEST = `import { TestCase } from 'loads-runner'
export class Shop extends TestCase {
  async test_calls() {
    const shop = this.grpc(process.env.TARGET, { proto: 'protos/shop.proto' })
    this.assertEqual((await shop.unary('GetItem', { id: 5 })).name, 'item-5')
    this.assertEqual((await shop.serverStream('ListItems', { count: 3 })).messages.length, 3)
    this.assertEqual((await shop.clientStream('AddItems', [{ id: 1 }])).count, 1)
    this.assertEqual((await shop.bidi('Chat', [{ text: 'a' }, { text: 'b' }])).messages.length, 2)
  }
}
export class Reflect extends TestCase {
  async test_calls() {
    const shop = this.grpc(process.env.REFLECT_TARGET, { reflect: true })
    this.assertEqual((await shop.unary('GetItem', { id: 5 })).name, 'item-5')
    this.assertEqual((await shop.serverStream('ListItems', { count: 3 })).messages.length, 3)
    this.assertEqual((await shop.clientStream('AddItems', [{ id: 1 }])).count, 1)
    this.assertEqual((await shop.bidi('Chat', [{ text: 'a' }, { text: 'b' }])).messages.length, 2)
  }
}
`

let nats: NatsServer
let shop: ShopServer
let reflecting: ShopServer
let agents: AgentProcess[]
let env: NodeJS.ProcessEnv
let cwd: string

beforeAll(async () => {
  ;[nats, shop, reflecting] = await Promise.all([startNatsServer(), startShopServer(), startShopServer(undefined, { reflection: 'v1+v1alpha' })])
  env = clusterEnv(nats, { TARGET: `127.0.0.1:${shop.port}`, REFLECT_TARGET: `127.0.0.1:${reflecting.port}` })
  agents = startAgents(2, env)
  cwd = tempProject({ 'shop_test.ts': TEST })
  mkdirSync(path.join(cwd, 'protos'))
  for (const f of ['shop.proto', 'money.proto']) copyFileSync(path.join(PROTO_DIR, f), path.join(cwd, 'protos', f))
  await waitForAgents(nats, idle(agents))
}, 60_000)

afterAll(async () => {
  await Promise.all((agents ?? []).map((a) => a.kill()))
  await Promise.all([nats?.stop(), shop?.close(), reflecting?.close()])
})

describe('gRPC on two agents', () => {
  it('runs every kind of call on both agents; hits, statuses and messages merge to what the server counted', async () => {
    const r = await runBin(LOADS_RUNNER, ['shop_test.ts:Shop.test_calls', '-u', '2', '-c', '3', '--agents', '2'], { cwd, env, timeoutMs: 60_000 })
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    // Each agent runs the whole plan: 2 users × 3 runs.
    expect(testResult(r.stdout)).toEqual({ run: 12, errors: 0, failures: 0 })
    expect(shop.counts.calls).toEqual({ GetItem: 12, ListItems: 12, AddItems: 12, Chat: 12 })
    expect(reportedHits(r.stdout)).toBe(48)
    expect(r.stdout).toMatch(/GRPC +\/shop\.Shop\/Chat +12 .* OK×12/)
    // Merged message counts: Chat sends 2 and receives 2 per call.
    expect(r.stdout).toMatch(/\/shop\.Shop\/Chat +12 +24 +24 /)
    expect(shop.counts.messagesIn).toBe(12 * 5)
    expect(shop.counts.messagesOut).toBe(12 * 7)
  }, 90_000)

  it('with { reflect: true }, each agent\'s worker asks the server once; hits merge to what the server counted', async () => {
    const r = await runBin(LOADS_RUNNER, ['shop_test.ts:Reflect.test_calls', '-u', '2', '-c', '3', '-w', '1', '--agents', '2'], { cwd, env, timeoutMs: 60_000 })
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(testResult(r.stdout)).toEqual({ run: 12, errors: 0, failures: 0 })
    expect(reflecting.counts.calls).toEqual({ GetItem: 12, ListItems: 12, AddItems: 12, Chat: 12 })
    expect(reportedHits(r.stdout)).toBe(48)
    expect(r.stdout).toMatch(/GRPC +\/shop\.Shop\/Chat +12 .* OK×12/)
    // One worker on each of the two agents: two reflection calls, none of them a hit.
    expect(reflecting.counts.reflectionCalls).toEqual({ 'grpc.reflection.v1.ServerReflection': 2 })
  }, 90_000)
})
