/**
 * The benchmark's Loads scenario: the README's TestCase, one GET and one assertion per run.
 *   loads-runner bench/loads-case.ts:Bench.test_index -u 50 -d 10s -w 1 --server-url http://127.0.0.1:PORT
 */
import { TestCase } from 'loads-runner'

export class Bench extends TestCase {
  async test_index() {
    const res = await this.session.get('/')
    this.assertTrue(res.content.includes('loads-bench-ok'))
  }
}
