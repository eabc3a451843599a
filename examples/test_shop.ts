/**
 * Traffic models (docs/traffic-models.md) against the demo target that ships with Loads: many
 * browse, few log in and check out. Weighted tasks, two user classes, checks, groups, -e and
 * --seed:
 *
 *   loads demo --serve &                                  # http://127.0.0.1:8089
 *   loads-runner examples/test_shop.ts -u 20 -d 30s --seed 7 -e SEARCH=post \
 *     --threshold 'checks>99%' --threshold 'group:checkout:p95<500ms'
 */
import { TestCase, task } from 'loads-runner'

const DEMO = process.env.LOADS_DEMO_URL ?? 'http://127.0.0.1:8089'

/** Most users: read posts (weight 6) and search (weight 1); three users in four are Browsers. */
export class Browser extends TestCase {
  static override serverUrl = DEMO
  static override weight = 3

  @task(6)
  async test_read_a_post() {
    const id = 1 + Math.floor(this.random() * 20)
    const res = await this.session.get(`/posts/${id}`, { name: '/posts/{id}' })
    this.check(res, {
      'post: status is 200': (r) => r.status === 200,
      'post: has its id': (r) => r.json<{ id: number }>().id === id,
    })
  }

  @task(1)
  async test_search() {
    // -e SEARCH=… reaches every worker and agent.
    const res = await this.session.get(`/search?q=${encodeURIComponent(this.env.SEARCH ?? 'post')}`, { name: '/search' })
    this.check('search: returns a list', Array.isArray(res.json()))
  }
}

/** Exactly two users log in and "check out", timed as one group with a nested step. */
export class Buyer extends TestCase {
  static override serverUrl = DEMO
  static override fixedCount = 2

  async test_checkout() {
    await this.group('checkout', async () => {
      const login = await this.session.post('/login', { data: { user: `buyer-${this.userIndex}` } })
      this.check(login, { 'login: status is 200': (r) => r.status === 200 })
      await this.group('confirm', async () => {
        const me = await this.session.get('/me')
        this.assertEqual(me.status, 200)
      })
    })
  }
}
