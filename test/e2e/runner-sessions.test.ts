import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startCountingServer, type CountingServer } from '../helpers/counting-server.js'
import { LOADS_RUNNER, runBin, tempProject, testResult } from '../helpers/cli.js'

const COOKIE_TEST = `
import { randomUUID } from 'node:crypto'
import { TestCase } from 'loads-runner'

export class Users extends TestCase {
  static serverUrl = process.env.TARGET
  // One instance per virtual user: this id lives as long as the user.
  id = randomUUID()
  loggedIn = false

  async test_cookies_stay_with_their_user() {
    if (!this.loggedIn) {
      const login = await this.session.post('/login', { data: { user: this.id } })
      this.assertEqual(login.status, 200)
      this.loggedIn = true
    }
    const me = await this.session.get('/me')
    this.assertEqual(me.status, 200)
    this.assertEqual(me.text, this.id)
  }
}

export class Redirects extends TestCase {
  static serverUrl = process.env.TARGET
  async test_follows() {
    const res = await this.session.get('/old')
    this.assertEqual(res.status, 200)
    this.assertEqual(res.history.length, 1)
    this.assertEqual(res.history[0].status, 302)
    this.assertTrue(res.url.endsWith('/new'))
  }
}
`

describe('sessions: one cookie jar per user, redirects followed', () => {
  let server: CountingServer
  let dir: string
  let meWithoutCookie = 0
  let wrongUser = 0
  beforeAll(async () => {
    server = await startCountingServer((req, res, body) => {
      if (req.url === '/login') {
        const user = new URLSearchParams(body).get('user') ?? ''
        res.writeHead(200, { 'set-cookie': `u=${user}; Path=/; HttpOnly` })
        return res.end('ok')
      }
      if (req.url === '/me') {
        const m = /(?:^|; )u=([^;]+)/.exec(req.headers.cookie ?? '')
        if (!m) meWithoutCookie++
        // Two cookies would mean a jar shared between users.
        if ((req.headers.cookie ?? '').split(';').length !== 1) wrongUser++
        res.writeHead(m ? 200 : 401)
        return res.end(m ? m[1] : 'no cookie')
      }
      if (req.url === '/old') {
        res.writeHead(302, { location: '/new' })
        return res.end()
      }
      res.writeHead(200)
      res.end('new')
    })
    dir = tempProject({ 'sessions.ts': COOKIE_TEST })
  })
  afterAll(() => server.close())

  it.each(['1', '2'])('cookies round-trip per user and never leak between users (%s workers)', async (workers) => {
    const before = server.count
    const r = await runBin(LOADS_RUNNER, ['sessions.Users', '-u', '20', '-c', '5', '--workers', workers, '-q'], { cwd: dir, env: { TARGET: server.url } })
    expect(r.stderr).toBe('')
    expect(testResult(r.stdout)).toEqual({ run: 100, errors: 0, failures: 0 })
    // 20 logins + 100 reads of /me, each user with exactly its own cookie.
    expect(server.count - before).toBe(120)
    expect(meWithoutCookie).toBe(0)
    expect(wrongUser).toBe(0)
    expect(r.stdout).toMatch(/POST\s+\/login\s+20\s/)
    expect(r.stdout).toMatch(/GET\s+\/me\s+100\s/)
  })

  it('follows redirects: each hop is a hit, grouped by URL with its status', async () => {
    const before = server.count
    const r = await runBin(LOADS_RUNNER, ['sessions.ts:Redirects.test_follows', '-u', '5', '-c', '4', '-q'], { cwd: dir, env: { TARGET: server.url } })
    expect(testResult(r.stdout)).toEqual({ run: 20, errors: 0, failures: 0 })
    expect(server.count - before).toBe(40)
    expect(r.stdout).toMatch(/GET\s+\/old\s+20\s.*302×20/)
    expect(r.stdout).toMatch(/GET\s+\/new\s+20\s.*200×20/)
  })
})
