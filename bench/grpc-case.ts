/**
 * The gRPC benchmark's Loads scenario: one unary call and one assertion per run.
 *   LOADS_BENCH_GRPC=127.0.0.1:PORT loads-runner bench/grpc-case.ts:GrpcBench.test_item -u 50 -d 10s -w 1
 */
import { TestCase } from 'loads-runner'

export class GrpcBench extends TestCase {
  async test_item() {
    const items = this.grpc(process.env['LOADS_BENCH_GRPC'] ?? '127.0.0.1:50051', { proto: 'grpc/bench.proto' })
    const item = await items.unary<{ name: string }>('GetItem', { id: 7 })
    this.assertEqual(item.name, 'item-7')
  }
}
