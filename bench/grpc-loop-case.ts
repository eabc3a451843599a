/**
 * For bench/grpc-corun.mjs --users-once: each of the 50 users makes calls in a loop of its own for
 * the whole window, in ONE test run, so Loads' per-run work drops out of the comparison.
 *   test_bare_loop: the bare loop's own code (a generated grpc-js client per user), inside Loads'
 *                   worker: what Loads' environment alone costs;
 *   test_client_loop: the same loop through this.grpc (GrpcClient, its hits and messages recorded).
 *   node bench/grpc-corun.mjs --users-once --case bench/grpc-loop-case.ts:GrpcLoop.test_bare_loop
 * Run from the repository's root (the bare loop reads bench/grpc/bench.proto from there).
 */
import { credentials, loadPackageDefinition, type Client } from '@grpc/grpc-js'
import { loadSync } from '@grpc/proto-loader'
import { join } from 'node:path'
import { TestCase } from 'loads-runner'

type Items = Client & { GetItem(request: { id: number }, options: { deadline: number }, callback: (err: Error | null, item?: { name: string }) => void): void }
const { bench } = loadPackageDefinition(loadSync(join(process.cwd(), 'bench/grpc/bench.proto'), { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true })) as unknown as {
  bench: { Items: new (target: string, creds: ReturnType<typeof credentials.createInsecure>, options: object) => Items }
}
const target = (): string => process.env['LOADS_BENCH_GRPC'] ?? '127.0.0.1:50051'
const until = (): number => performance.now() + Number(process.env['LOOP_SECONDS'] ?? 14) * 1000

export class GrpcLoop extends TestCase {
  async test_bare_loop() {
    const deadline = until()
    const client = new bench.Items(target(), credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 })
    try {
      while (performance.now() < deadline) {
        const item = await new Promise<{ name: string }>((resolve, reject) => client.GetItem({ id: 7 }, { deadline: Date.now() + 30_000 }, (err, res) => (err ? reject(err) : resolve(res!))))
        if (item.name !== 'item-7') throw new Error('unexpected answer')
      }
    } finally {
      client.close()
    }
  }

  async test_client_loop() {
    const deadline = until()
    const items = this.grpc(target(), { proto: 'grpc/bench.proto' })
    while (performance.now() < deadline) {
      const item = await items.unary<{ name: string }>('GetItem', { id: 7 })
      this.assertEqual(item.name, 'item-7')
    }
  }
}
