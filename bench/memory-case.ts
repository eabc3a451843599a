/**
 * The memory benchmark's user: one request every LOADS_BENCH_THINK_MS to one of LOADS_BENCH_URLS
 * (a server that sets a session cookie, so every user keeps a connection and a cookie jar), the
 * first one after a random part of the think time so users do not all start at once.
 */
import { TestCase } from 'loads-runner'

const urls = (process.env.LOADS_BENCH_URLS ?? 'http://127.0.0.1:8089').split(',')
const thinkMs = Number(process.env.LOADS_BENCH_THINK_MS ?? 2000)
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

export class Idle extends TestCase {
  started = false

  async test_visit() {
    if (!this.started) {
      this.started = true
      await sleep(Math.random() * thinkMs)
    }
    const res = await this.session.get(`${urls[this.userIndex % urls.length]}/`)
    this.assertTrue(res.content.includes('loads-bench-ok'))
    await sleep(thinkMs)
  }
}
