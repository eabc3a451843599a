import net from 'node:net'
import tls from 'node:tls'
import type { AddressInfo } from 'node:net'
import { afterAll, afterEach, beforeAll } from 'vitest'
import { makeTestCa, type TestCa } from './tls-ca.js'

/**
 * What a test file of the HTTP client on the wire needs: a test CA (made once per file), cleanups
 * run after each test (last registered first), and raw servers — plain TCP, or TLS with a leaf of
 * that CA — on 127.0.0.1:0, whose `onSocket` writes exactly the bytes the test wants. Call it at
 * the top level of the file: it registers the file's hooks.
 */
export function wireFixture(): {
  /** The file's CA (its `cert` is what a Session trusts). */
  ca(): TestCa
  /** Runs `fn` after the current test. */
  cleanup(fn: () => Promise<void> | void): void
  /** A raw server for this test; resolves with its origin (`http://` or `https://127.0.0.1:PORT`). */
  rawOrigin(secure: boolean, onSocket: (socket: net.Socket) => void): Promise<string>
} {
  const cleanups: Array<() => Promise<void> | void> = []
  let ca: TestCa | undefined
  beforeAll(() => {
    ca = makeTestCa()
  })
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  })
  afterAll(() => ca?.dispose())
  const fixture = {
    ca: () => ca!,
    cleanup: (fn: () => Promise<void> | void) => void cleanups.push(fn),
    async rawOrigin(secure: boolean, onSocket: (socket: net.Socket) => void): Promise<string> {
      const sockets = new Set<net.Socket>()
      const accept = (socket: net.Socket): void => {
        sockets.add(socket)
        socket.on('close', () => sockets.delete(socket))
        socket.on('error', () => {})
        onSocket(socket)
      }
      let server: net.Server
      if (secure) {
        const leaf = ca!.issue('localhost', { dnsNames: ['localhost'], ips: ['127.0.0.1'] })
        server = tls.createServer({ key: leaf.key, cert: leaf.cert }, accept)
      } else {
        server = net.createServer(accept)
      }
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
      fixture.cleanup(
        () =>
          new Promise<void>((resolve) => {
            for (const s of sockets) s.destroy()
            server.close(() => resolve())
          }),
      )
      return `${secure ? 'https' : 'http'}://127.0.0.1:${(server.address() as AddressInfo).port}`
    },
  }
  return fixture
}

/**
 * Calls `onRequest(head, n)` for each request that arrives on `socket` (n from 0), once its head
 * and its body (by content-length; none without) are in: the head's bytes, CRLFCRLF included.
 */
export function eachRequest(socket: net.Socket, onRequest: (head: Buffer, n: number) => void): void {
  let n = 0
  let pending = Buffer.alloc(0)
  socket.on('data', (chunk: Buffer) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk])
    for (let end = pending.indexOf('\r\n\r\n'); end !== -1; end = pending.indexOf('\r\n\r\n')) {
      const head = pending.subarray(0, end + 4)
      const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head.toString('latin1'))?.[1] ?? 0)
      if (pending.length < end + 4 + length) return
      pending = pending.subarray(end + 4 + length)
      onRequest(Buffer.from(head), n++)
    }
  })
}
