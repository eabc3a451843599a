import { writeFileSync } from 'node:fs'
import https from 'node:https'
import net from 'node:net'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LOADS_RUNNER, runBin, tempProject, testResult } from '../helpers/cli.js'
import { resetOnRetry } from '../helpers/retry-reset.js'
import { makeTestCa, type TestCa } from '../helpers/tls-ca.js'

const TEST = `
import { TestCase } from 'loads-runner'

export class Secure extends TestCase {
  async test_get() {
    await this.session.get(process.env.TARGET + '/secure')
  }
}
`

/**
 * A TLS failure fails the hit with kind TLS and the user goes on: a certificate whose name does
 * not match used to leave undici's queue stuck, so the next request and the session's close()
 * waited forever and the run never ended.
 */
describe('TLS failures through the CLI', () => {
  let ca: TestCa
  let server: https.Server
  let silent: net.Server
  let port: number
  let silentPort: number
  let dir: string
  let handshakes = 0
  const sockets = new Set<net.Socket>()
  beforeAll(async () => {
    ca = makeTestCa()
    const leaf = ca.issue('wrong.example', { dnsNames: ['wrong.example'] })
    server = https.createServer({ key: leaf.key, cert: leaf.cert }, (_req, res) => res.end('never reached'))
    server.on('connection', () => handshakes++)
    // A retried test counts the connections of its own run only.
    resetOnRetry(() => {
      handshakes = 0
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    port = (server.address() as AddressInfo).port
    // Accepts TCP and never answers the TLS handshake.
    silent = net.createServer((socket) => {
      sockets.add(socket)
      socket.on('error', () => {})
    })
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
    silentPort = (silent.address() as AddressInfo).port
    dir = tempProject({ 'secure.ts': TEST })
    writeFileSync(path.join(dir, 'ca.pem'), ca.cert)
  })
  afterAll(async () => {
    for (const s of sockets) s.destroy()
    await new Promise<void>((resolve) => server.close(() => resolve()))
    await new Promise<void>((resolve) => silent.close(() => resolve()))
    ca.dispose()
  })

  it('a certificate for another name: every hit fails as TLS, the run ends with exit 1 and its summary', async () => {
    const started = performance.now()
    const r = await runBin(LOADS_RUNNER, ['secure.Secure.test_get', '-u', '2', '-c', '3', '-q', '--cacert', 'ca.pem', '--timeout', '5s'], {
      cwd: dir,
      env: { TARGET: `https://127.0.0.1:${port}` },
    })
    const seconds = (performance.now() - started) / 1000
    expect(r.code).toBe(1)
    expect(testResult(r.stdout)).toEqual({ run: 6, errors: 6, failures: 0 })
    expect(r.stdout).toMatch(/GET +\/secure +6 .* TLS×6/)
    expect(r.stdout).toContain("does not match certificate's altnames")
    // The message whole (past 120 characters, the URL at its end) on its own line, and a hint
    // for a name that does not match: the CA is trusted already, the name is what to change.
    const message = `TLS handshake with 127.0.0.1:${port} failed: Hostname/IP does not match certificate's altnames: IP: 127.0.0.1 is not in the cert's list: `
    const row = r.stdout.split('\n').findIndex((l) => /^ +6 {2}error {4}TLS +Secure\.test_get$/.test(l))
    expect(row, r.stdout).toBeGreaterThan(0)
    expect(r.stdout.split('\n').slice(row + 1, row + 3)).toEqual([
      `         ${message} (GET https://127.0.0.1:${port}/secure)`,
      '         hint: the certificate is for other names: request the host by one of them (--resolve NAME:PORT:ADDRESS still connects to this address), or pass insecure: true',
    ])
    // Each user reconnected for each run (nothing stuck), and nothing waited for the timeout.
    expect(handshakes).toBe(6)
    expect(seconds).toBeLessThan(30)
  }, 60_000)

  it('a server that never finishes the handshake: --timeout bounds each hit', async () => {
    const started = performance.now()
    const r = await runBin(LOADS_RUNNER, ['secure.Secure.test_get', '-u', '1', '-c', '2', '-q', '--cacert', 'ca.pem', '--timeout', '1s'], {
      cwd: dir,
      env: { TARGET: `https://127.0.0.1:${silentPort}` },
    })
    const seconds = (performance.now() - started) / 1000
    expect(r.code).toBe(1)
    expect(testResult(r.stdout)).toEqual({ run: 2, errors: 2, failures: 0 })
    expect(r.stdout).toMatch(/GET +\/secure +2 .* TIMEOUT×2/)
    // 2 s of timeouts plus start-up; a run that ignored --timeout would wait the default 30 s a
    // hit (60 s). A loaded machine took 23 s, so the bound sits between.
    expect(seconds).toBeLessThan(45)
  }, 60_000)
})
