import { createServer as createHttpsServer } from 'node:https'
import type { IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import { WebSocketServer, type WebSocket } from 'ws'
import { resetOnRetry } from './retry-reset.js'
import type { Issued } from './tls-ca.js'

/** A WebSocket echo server on 127.0.0.1 that counts what it saw, exactly. */
export interface EchoServer {
  url: string
  port: number
  /** Upgrades accepted. */
  opened: number
  messagesIn: number
  messagesOut: number
  bytesIn: number
  /** Close codes the server received from clients. */
  closeCodes: number[]
  /** Handshake requests, for header and subprotocol checks. */
  handshakes: IncomingMessage[]
  close(): Promise<void>
}

/**
 * Echoes every message; `reject:NNN` in the path answers the handshake with status NNN; a text
 * message `burst N` is answered with N messages `burst-0 … burst-(N-1)` then `done`.
 */
export async function startEchoServer(tls?: Issued): Promise<EchoServer> {
  const https = tls !== undefined ? createHttpsServer({ key: tls.key, cert: tls.cert }) : undefined
  const wss = new WebSocketServer({
    ...(https !== undefined ? { server: https } : { host: '127.0.0.1', port: 0 }),
    handleProtocols: (protocols) => (protocols.has('chat.v2') ? 'chat.v2' : false),
    verifyClient: (info, done) => {
      const m = /reject:(\d+)/.exec(info.req.url ?? '')
      if (m) done(false, Number(m[1]))
      else done(true)
    },
  })
  const state = { opened: 0, messagesIn: 0, messagesOut: 0, bytesIn: 0, closeCodes: [] as number[], handshakes: [] as IncomingMessage[] }
  const sockets = new Set<WebSocket>()
  wss.on('connection', (socket: WebSocket, req: IncomingMessage) => {
    state.opened++
    state.handshakes.push(req)
    sockets.add(socket)
    socket.on('close', (code) => {
      state.closeCodes.push(code)
      sockets.delete(socket)
    })
    socket.on('message', (data, isBinary) => {
      const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data)
      state.messagesIn++
      state.bytesIn += buf.length
      const burst = !isBinary ? /^burst (\d+)$/.exec(buf.toString()) : null
      const replies = burst ? [...Array.from({ length: Number(burst[1]) }, (_, i) => `burst-${i}`), 'done'] : [buf]
      for (const reply of replies) {
        state.messagesOut++
        socket.send(reply, { binary: isBinary })
      }
    })
  })
  if (https !== undefined) await new Promise<void>((resolve) => https.listen(0, '127.0.0.1', resolve))
  else await new Promise<void>((resolve) => wss.once('listening', resolve))
  const port = ((https ?? wss).address() as AddressInfo).port
  // A retried test counts from zero again: the failed attempt's opens and messages are not its own.
  const forget = resetOnRetry(() => {
    Object.assign(state, { opened: 0, messagesIn: 0, messagesOut: 0, bytesIn: 0 })
    state.closeCodes.length = 0
    state.handshakes.length = 0
  })
  return Object.assign(state, {
    url: `${https !== undefined ? 'wss' : 'ws'}://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        forget()
        for (const s of sockets) s.terminate()
        wss.close(() => (https !== undefined ? https.close(() => resolve()) : resolve()))
      }),
  })
}
