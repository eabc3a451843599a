import { writeFileSync } from 'node:fs'
import { createSecureServer, type Http2SecureServer, type ServerHttp2Session } from 'node:http2'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import type { TLSSocket } from 'node:tls'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LOADS_RUNNER, runBin, tempProject, testResult } from '../helpers/cli.js'
import { resetOnRetry } from '../helpers/retry-reset.js'
import { makeTestCa, type TestCa } from '../helpers/tls-ca.js'

const TEST = `
import { TestCase } from 'loads-runner'

export class Secure extends TestCase {
  async test_get() {
    const res = await this.session.get(process.env.TARGET + '/secure')
    this.assertEqual(res.text, 'h2 ok')
  }
}
`

describe('--http2, --cacert, --cert/--key and --resolve from the command line', () => {
  let ca: TestCa
  let server: Http2SecureServer
  let port: number
  let dir: string
  const seen = { sessions: 0, streams: 0, clients: new Set<string>(), hosts: new Set<string>() }
  const open = new Set<ServerHttp2Session>()
  // A retried test counts the sessions and streams of its own run only.
  resetOnRetry(() => {
    Object.assign(seen, { sessions: 0, streams: 0 })
    seen.clients.clear()
    seen.hosts.clear()
  })
  beforeAll(async () => {
    ca = makeTestCa()
    const leaf = ca.issue('loads.test', { dnsNames: ['loads.test'] })
    const client = ca.issue('loads-virtual-user', { client: true })
    // HTTP/2 only, and only for clients with a certificate from the CA.
    server = createSecureServer({ key: leaf.key, cert: leaf.cert, ca: ca.cert, requestCert: true, rejectUnauthorized: true, allowHTTP1: false })
    server.on('session', (session) => {
      seen.sessions++
      open.add(session)
      session.on('close', () => open.delete(session))
      const peer = (session.socket as TLSSocket).getPeerCertificate()
      seen.clients.add(String(peer.subject?.CN))
    })
    server.on('stream', (stream, headers) => {
      seen.streams++
      seen.hosts.add(String(headers[':authority']))
      stream.respond({ ':status': 200 })
      stream.end('h2 ok')
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    port = (server.address() as AddressInfo).port
    dir = tempProject({ 'secure.ts': TEST })
    writeFileSync(path.join(dir, 'ca.pem'), ca.cert)
    writeFileSync(path.join(dir, 'client.pem'), client.cert)
    writeFileSync(path.join(dir, 'client.key'), client.key)
  })
  afterAll(async () => {
    for (const s of open) s.destroy()
    await new Promise<void>((resolve) => server.close(() => resolve()))
    ca.dispose()
  })

  it('speaks h2 to https://loads.test pinned to 127.0.0.1, trusting the CA and presenting a client certificate', async () => {
    const r = await runBin(
      LOADS_RUNNER,
      ['secure.Secure.test_get', '-u', '2', '-c', '5', '-w', '1', '-q', '--http2', '--cacert', 'ca.pem', '--cert', 'client.pem', '--key', 'client.key', '--resolve', `loads.test:${port}:127.0.0.1`],
      { cwd: dir, env: { TARGET: `https://loads.test:${port}` } },
    )
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(testResult(r.stdout)).toEqual({ run: 10, errors: 0, failures: 0 })
    // One h2 session per virtual user, one stream per request.
    expect(seen.sessions).toBe(2)
    expect(seen.streams).toBe(10)
    expect(seen.clients).toEqual(new Set(['loads-virtual-user']))
    expect(seen.hosts).toEqual(new Set([`loads.test:${port}`]))
  }, 60_000)

  it('without --cacert the certificate is refused: each run is an error of kind TLS', async () => {
    const r = await runBin(
      LOADS_RUNNER,
      ['secure.Secure.test_get', '-u', '1', '-c', '2', '-q', '--http2', '--cert', 'client.pem', '--key', 'client.key', '--resolve', `loads.test:${port}:127.0.0.1`],
      { cwd: dir, env: { TARGET: `https://loads.test:${port}` } },
    )
    expect(testResult(r.stdout)).toEqual({ run: 2, errors: 2, failures: 0 })
    expect(r.stdout).toMatch(/GET +\/secure +2 .* TLS×2/)
  }, 60_000)

  it('refuses --cert without --key, and a --cacert that is not PEM (exit 2)', async () => {
    const a = await runBin(LOADS_RUNNER, ['secure.Secure.test_get', '--cert', 'client.pem'], { cwd: dir })
    expect(a.code).toBe(2)
    expect(a.stderr).toContain('--cert and --key go together')
    const b = await runBin(LOADS_RUNNER, ['secure.Secure.test_get', '--cacert', 'secure.ts'], { cwd: dir })
    expect(b.code).toBe(2)
    expect(b.stderr).toContain('--cacert secure.ts is not a PEM file')
  }, 60_000)

  it("loads-runner --curl carries curl's --http2, --cacert, --cert, --key and --resolve onto the run", async () => {
    const before = { sessions: seen.sessions, streams: seen.streams }
    const command = `curl --http2 --cacert ca.pem --cert client.pem --key client.key --resolve loads.test:${port}:127.0.0.1 https://loads.test:${port}/secure`
    const r = await runBin(LOADS_RUNNER, ['--curl', command, '-u', '1', '-c', '2', '-q'], { cwd: dir })
    expect(r.code, r.stdout + r.stderr).toBe(0)
    expect(testResult(r.stdout)).toEqual({ run: 2, errors: 0, failures: 0 })
    // HTTP/2 (the server speaks nothing else), one session, the client certificate presented.
    expect([seen.sessions - before.sessions, seen.streams - before.streams]).toEqual([1, 2])
    expect(seen.clients).toEqual(new Set(['loads-virtual-user']))
  }, 60_000)
})
