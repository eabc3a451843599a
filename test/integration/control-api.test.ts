import { request } from 'node:http'
import { afterEach, describe, expect, it } from 'vitest'
import type { ChangeEvent, RunChange } from '../../src/load/control.js'
import { Dashboard } from '../../src/report/dashboard/dashboard.js'
import { LiveControl } from '../../src/runner/live-control.js'

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

/** A dashboard whose LiveControl is bound to a run that only notes the changes it receives. */
async function start(host?: string): Promise<{ port: number; url: string; applied: ChangeEvent[] }> {
  const applied: ChangeEvent[] = []
  const control = new LiveControl()
  control.bind({
    apply: (change: RunChange, by) => {
      const event = { ...change, atMs: Date.now(), by, step: 0 }
      applied.push(event)
      return event
    },
    paused: () => false,
  })
  const dashboard = new Dashboard({ port: 0, stop: () => {}, control, ...(host !== undefined ? { host } : {}) })
  const url = await dashboard.listen()
  cleanups.push(() => dashboard.close())
  return { port: Number(new URL(url).port), url, applied }
}

function post(port: number, path: string, body: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }))
    })
    req.on('error', reject)
    req.end(body)
  })
}

describe('the dashboard control API', () => {
  it('applies scale, pause and resume from this origin, and names who asked', async () => {
    const { port, applied } = await start()
    expect((await post(port, '/api/scale', '{"users": 200}')).status).toBe(202)
    expect((await post(port, '/api/pause', '', { origin: `http://127.0.0.1:${port}`, 'x-loads-by': 'page' })).status).toBe(202)
    expect((await post(port, '/api/resume', '', { 'x-loads-by': 'cli' })).status).toBe(202)
    expect((await post(port, '/api/scale', '{"rate": 12.5}')).status).toBe(202)
    expect(applied.map((e) => [e.action, 'users' in e ? e.users : 'rate' in e ? e.rate : null, e.by])).toEqual([
      ['scale', 200, 'api'],
      ['pause', null, 'page'],
      ['resume', null, 'cli'],
      ['scale', 12.5, 'api'],
    ])
  })

  it('refuses cross-origin control, a foreign Host, bad bodies and GET, and applies none of them', async () => {
    const { port, applied } = await start()
    const evil = { origin: 'http://evil.example' }
    for (const path of ['/api/scale', '/api/pause', '/api/resume', '/api/start', '/api/stop']) {
      const r = await post(port, path, '{"users": 1}', evil)
      expect(r.status, path).toBe(403)
    }
    expect((await post(port, '/api/pause', '', { origin: 'null' })).status).toBe(403)
    expect((await post(port, '/api/scale', '{"users": 1}', { host: 'evil.example' })).status).toBe(421)
    expect((await post(port, '/api/scale', 'users=5')).status).toBe(400)
    expect((await post(port, '/api/scale', '{"users": 1, "rate": 2}')).status).toBe(400)
    expect((await post(port, '/api/scale', '{"users": 1.5}')).status).toBe(400)
    expect((await post(port, '/api/scale', 'x'.repeat(20_000))).status).toBe(400)
    const get = await new Promise<number>((resolve, reject) => request({ host: '127.0.0.1', port, path: '/api/scale' }, (res) => resolve(res.statusCode ?? 0)).on('error', reject).end())
    expect(get).toBe(405)
    expect(applied).toEqual([])
  })

  it('needs the token beyond loopback', async () => {
    const { port, url, applied } = await start('0.0.0.0')
    const token = new URL(url).searchParams.get('token')!
    expect((await post(port, '/api/scale', '{"users": 3}')).status).toBe(401)
    expect((await post(port, '/api/scale', '{"users": 3}', { authorization: 'Bearer wrong' })).status).toBe(401)
    expect((await post(port, '/api/scale', '{"users": 3}', { authorization: `Bearer ${token}` })).status).toBe(202)
    expect(applied.map((e) => e.action)).toEqual(['scale'])
  })
})
