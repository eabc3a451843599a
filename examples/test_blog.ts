/**
 * The example of the original Loads README, against the demo target that ships with Loads:
 *
 *   loads demo --serve &            # the demo target on http://127.0.0.1:8089
 *   loads-runner loads.examples.test_blog.TestWebSite.test_something -u 10:20:30 -c 20
 */
import { TestCase } from 'loads-runner'

export class TestWebSite extends TestCase {
  static override serverUrl = process.env.LOADS_DEMO_URL ?? 'http://127.0.0.1:8089'

  async test_something() {
    const res = await this.session.get('/')
    this.assertTrue(res.text.includes('Search'))
  }

  async test_read_a_post() {
    const id = 1 + Math.floor(Math.random() * 20)
    const res = await this.session.get(`/posts/${id}`, { name: '/posts/{id}' })
    this.assertEqual(res.status, 200)
    this.assertEqual(res.json<{ id: number }>().id, id)
  }

  async test_log_in() {
    await this.session.post('/login', { data: { user: `user-${this.userIndex}` } })
    const me = await this.session.get('/me')
    this.assertEqual(me.json(), { user: `user-${this.userIndex}` })
    this.incrCounter('logins')
  }
}
