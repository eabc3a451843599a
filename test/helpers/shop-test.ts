/**
 * A shop test with checks and (nested) groups, and a target that fails every 10th GET /item
 * with a 500: what the checks and groups must count is what this server counted.
 */
import type { CountingServer } from './counting-server.js'
import { startCountingServer } from './counting-server.js'
import { resetOnRetry } from './retry-reset.js'

export const SHOP_TEST = `import { TestCase } from 'loads-runner'
export class Shop extends TestCase {
  async test_buy() {
    const res = await this.session.get('/item')
    this.check(res, { 'status is 200': (r) => r.status === 200, 'says ok': (r) => r.content.includes('ok') })
    this.check('always', true)
    await this.group('checkout', async () => {
      await this.session.get('/cart')
      await this.group('pay', async () => {
        await this.session.post('/pay', { body: 'x' })
      })
    })
  }
  async test_broken() {
    await this.group('broken', async () => {
      await this.session.get('/broken')
      this.fail('no')
    })
  }
}
`

/** Every 10th GET /item answers 500 (by the server's own count); everything else 200 "ok". */
export function startShopServer(): Promise<CountingServer & { served500: () => number }> {
  let items = 0
  let errors = 0
  return startCountingServer((req, res) => {
    if (req.url === '/item' && ++items % 10 === 0) {
      errors++
      res.writeHead(500).end('boom')
      return
    }
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok')
  }).then((server) => {
    // A retried test starts the every-10th count afresh, as the server's own counts do.
    const forget = resetOnRetry(() => {
      items = 0
      errors = 0
    })
    const close = server.close
    return Object.assign(server, {
      served500: () => errors,
      close: () => {
        forget()
        return close()
      },
    })
  })
}

/** Three user classes: Browser (weight 3), Buyer (fixedCount 2), Admin (weight 1), each on its own path. */
export const CLASSES = `import { TestCase } from 'loads-runner'
export class Browser extends TestCase {
  static weight = 3
  async test_browse() { await this.session.get('/browse/' + this.constructor.name) }
}
export class Buyer extends TestCase {
  static fixedCount = 2
  async test_buy() { await this.session.get('/buy') }
}
export class Admin extends TestCase {
  async test_admin() { await this.session.get('/admin') }
}
`
