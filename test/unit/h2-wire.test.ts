import { EventEmitter } from 'node:events'
import type { Socket } from 'node:net'
import { describe, expect, it } from 'vitest'
import { FRAME, WireSession, type WireStreamEvents } from '../../src/http/h2-wire.js'
import { hpackEncode } from '../../src/http/hpack.js'
import { rng } from '../helpers/rng.js'

/** A socket that records what the client writes and lets the test play the server. */
class FakeSocket extends EventEmitter {
  written: Buffer[] = []
  destroyed = false
  writable = true
  write(chunk: Buffer): boolean {
    this.written.push(Buffer.from(chunk))
    return true
  }
  end(): void {
    this.writable = false
  }
  destroySoon(): void {
    this.writable = false
  }
  destroy(): void {
    this.destroyed = true
    this.writable = false
  }
  /** The frames the client wrote after its preface: [type, flags, stream, payload]. */
  frames(): Array<[number, number, number, Buffer]> {
    const all = Buffer.concat(this.written).subarray(24)
    const out: Array<[number, number, number, Buffer]> = []
    for (let at = 0; at + 9 <= all.length; ) {
      const length = all.readUIntBE(at, 3)
      out.push([all[at + 3]!, all[at + 4]!, all.readUInt32BE(at + 5) & 0x7fffffff, all.subarray(at + 9, at + 9 + length)])
      at += 9 + length
    }
    return out
  }
}

function frame(type: number, flags: number, id: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(9)
  head.writeUIntBE(payload.length, 0, 3)
  head[3] = type
  head[4] = flags
  head.writeUInt32BE(id, 5)
  return Buffer.concat([head, payload])
}

/**
 * A header block larger than `size`, on stream `id`: a HEADERS frame of its first `size` bytes,
 * then CONTINUATION frames of `size` bytes, the last one with END_HEADERS (4).
 */
function headerFrames(id: number, block: Buffer, size: number): Buffer {
  const parts = [frame(FRAME.HEADERS, 0, id, block.subarray(0, size))]
  for (let at = size; at < block.length; at += size) parts.push(frame(FRAME.CONTINUATION, at + size >= block.length ? 4 : 0, id, block.subarray(at, at + size)))
  return Buffer.concat(parts)
}

const SETTINGS = frame(FRAME.SETTINGS, 0, 0)
const GET = hpackEncode([':method', 'GET', ':path', '/', ':scheme', 'http', ':authority', 'x'])

/** What a request saw, in order. */
function recorder(): WireStreamEvents & { log: string[]; ended: number; errors: Error[] } {
  const r = {
    log: [] as string[],
    ended: 0,
    errors: [] as Error[],
    onResponse(status: number, fields: string[]) {
      r.log.push(`response ${status} ${fields.length / 2}`)
    },
    onData(chunk: Buffer) {
      r.log.push(`data ${chunk.length}`)
    },
    onEnd() {
      r.ended++
      r.log.push('end')
    },
    onError(err: Error) {
      r.ended++
      r.errors.push(err)
      r.log.push(`error ${(err as Error & { code: string }).code}`)
    },
  }
  return r
}

function open(): { socket: FakeSocket; session: WireSession } {
  const socket = new FakeSocket()
  return { socket, session: new WireSession(socket as unknown as Socket) }
}

describe('own HTTP/2 client: frames on a fake socket', () => {
  it('a header block the size of an attack (CONTINUATION beyond 256 KiB) ends the connection with ENHANCE_YOUR_CALM', () => {
    const { socket, session } = open()
    const r = recorder()
    session.request(GET, null, false, r)
    socket.emit('data', SETTINGS)
    const block = hpackEncode([':status', '200', 'x-big', 'v'.repeat(300_000)])
    socket.emit('data', headerFrames(1, block, 16000))
    expect(r.log).toEqual(['error ERR_HTTP2_SESSION_ERROR'])
    expect(r.errors[0]!.message).toContain('NGHTTP2_ENHANCE_YOUR_CALM')
    const goaway = socket.frames().find((f) => f[0] === FRAME.GOAWAY)!
    expect(goaway[3].readUInt32BE(4)).toBe(11)
    expect(session.accepting).toBe(false)
  })

  it('a header list over 64 KiB fails its stream only (RST_STREAM); the next stream on the connection is answered', () => {
    const { socket, session } = open()
    const first = recorder()
    const second = recorder()
    session.request(GET, null, false, first)
    session.request(GET, null, false, second)
    socket.emit('data', SETTINGS)
    const big = hpackEncode([':status', '200', 'x-big', 'v'.repeat(70_000)])
    socket.emit('data', headerFrames(1, big, 16384))
    socket.emit('data', Buffer.concat([frame(FRAME.HEADERS, 4, 3, hpackEncode([':status', '200'])), frame(FRAME.DATA, 1, 3, Buffer.from('ok'))]))
    expect(first.log).toEqual(['error ERR_HTTP2_STREAM_ERROR'])
    expect(second.log).toEqual(['response 200 0', 'data 2', 'end'])
    const rst = socket.frames().find((f) => f[0] === FRAME.RST_STREAM)!
    expect([rst[2], rst[3].readUInt32BE(0)]).toEqual([1, 11])
  })

  it('flow control: a 2 MiB response gets WINDOW_UPDATEs; a 200 kB body waits for the peer\'s window', () => {
    const { socket, session } = open()
    const down = recorder()
    session.request(GET, null, false, down)
    socket.emit('data', SETTINGS)
    const chunk = Buffer.alloc(16384, 1)
    const frames = [frame(FRAME.HEADERS, 4, 1, hpackEncode([':status', '200']))]
    for (let i = 0; i < 128; i++) frames.push(frame(FRAME.DATA, i === 127 ? 1 : 0, 1, chunk))
    socket.emit('data', Buffer.concat(frames))
    expect(down.log.filter((l) => l === 'data 16384')).toHaveLength(128)
    expect(down.log.at(-1)).toBe('end')
    // Stream 1 gets back half its 1 MiB window each time half is used (not after END_STREAM); the
    // 16 MiB connection window (raised right after the preface) is not half used yet.
    const updates = socket.frames().filter((f) => f[0] === FRAME.WINDOW_UPDATE).map((f) => [f[2], f[3].readUInt32BE(0)])
    expect(updates).toEqual([[0, (1 << 24) - 65535], [1, 1 << 19], [1, 1 << 19], [1, 1 << 19]])

    const up = recorder()
    session.request(GET, Buffer.alloc(200_000, 2), false, up)
    const sent = (): number => socket.frames().filter((f) => f[0] === FRAME.DATA && f[2] === 3).reduce((n, f) => n + f[3].length, 0)
    expect(sent()).toBe(65535) // the peer's default windows
    socket.emit('data', Buffer.concat([frame(FRAME.WINDOW_UPDATE, 0, 0, Buffer.from([0, 1, 0, 0])), frame(FRAME.WINDOW_UPDATE, 0, 3, Buffer.from([0, 1, 0, 0]))]))
    expect(sent()).toBe(65535 + 65536)
    socket.emit('data', Buffer.concat([frame(FRAME.WINDOW_UPDATE, 0, 0, Buffer.from([0, 2, 0, 0])), frame(FRAME.WINDOW_UPDATE, 0, 3, Buffer.from([0, 2, 0, 0]))]))
    expect(sent()).toBe(200_000)
    const last = socket.frames().filter((f) => f[0] === FRAME.DATA && f[2] === 3).at(-1)!
    expect(last[1] & 1).toBe(1)
  })

  it('GOAWAY: streams above the last id fail as refused, the others finish, then the connection closes', () => {
    const { socket, session } = open()
    const rs = [recorder(), recorder(), recorder()]
    for (const r of rs) session.request(GET, null, false, r)
    let closed = 0
    session.on('goaway', () => closed++)
    socket.emit('data', SETTINGS)
    const goaway = Buffer.alloc(8)
    goaway.writeUInt32BE(3, 0)
    socket.emit('data', frame(FRAME.GOAWAY, 0, 0, goaway))
    expect(rs[2]!.log).toEqual(['error ERR_HTTP2_STREAM_ERROR'])
    expect(rs[2]!.errors[0]!.message).toContain('REFUSED_STREAM')
    expect(session.accepting).toBe(false)
    for (const id of [1, 3]) socket.emit('data', frame(FRAME.HEADERS, 5, id, hpackEncode([':status', '204'])))
    expect(rs.map((r) => r.ended)).toEqual([1, 1, 1])
    expect(rs[0]!.log).toEqual(['response 204 0', 'end'])
    expect([closed, socket.writable]).toEqual([1, false])
  })

  it('answers PING, acknowledges SETTINGS, honours MAX_CONCURRENT_STREAMS', () => {
    const { socket, session } = open()
    const settings = Buffer.alloc(6)
    settings.writeUInt16BE(3, 0)
    settings.writeUInt32BE(1, 2)
    socket.emit('data', Buffer.concat([frame(FRAME.SETTINGS, 0, 0, settings), frame(FRAME.PING, 0, 0, Buffer.from('12345678'))]))
    const rs = [recorder(), recorder()]
    for (const r of rs) session.request(GET, null, false, r)
    const headers = (): number[] => socket.frames().filter((f) => f[0] === FRAME.HEADERS).map((f) => f[2])
    expect(headers()).toEqual([1])
    socket.emit('data', frame(FRAME.HEADERS, 5, 1, hpackEncode([':status', '200'])))
    expect(headers()).toEqual([1, 3])
    const kinds = socket.frames().map((f) => [f[0], f[1]])
    expect(kinds).toContainEqual([FRAME.SETTINGS, 1])
    expect(socket.frames().find((f) => f[0] === FRAME.PING)![3].toString()).toBe('12345678')
  })
})

describe('own HTTP/2 client: seeded fuzzing of the frame parser', () => {
  const seed = Number(process.env['LOADS_FUZZ_SEED'] ?? 20)
  const cases = Number(process.env['LOADS_FUZZ_CASES'] ?? 3000)
  it(`${cases} mutated server byte streams (seed ${seed}): no throw, no hang, every request ends once with a classified error or a response`, () => {
    const random = rng(seed)
    const int = (n: number): number => Math.floor(random() * n)
    const codes = new Set<string>()
    for (let c = 0; c < cases; c++) {
      const { socket, session } = open()
      const requests = Array.from({ length: 1 + int(3) }, () => recorder())
      for (const r of requests) session.request(GET, int(4) === 0 ? Buffer.alloc(int(70_000)) : null, false, r)
      // A valid answer to every stream, then mutations.
      const parts: Buffer[] = [SETTINGS]
      for (let i = 0; i < requests.length; i++) {
        const body = Buffer.alloc(int(40), 97)
        parts.push(frame(FRAME.HEADERS, 4, 1 + 2 * i, hpackEncode([':status', String(200 + int(300)), 'content-length', String(body.length)])))
        parts.push(frame(FRAME.DATA, 1, 1 + 2 * i, body))
      }
      for (let m = int(4); m > 0; m--) {
        const at = int(parts.length + 1)
        parts.splice(at, 0, frame(int(12), int(256), [0, 1, 2, 3, 5, int(0x7fffffff)][int(6)]!, Buffer.from(Array.from({ length: int(24) }, () => int(256)))))
      }
      let bytes = Buffer.concat(parts)
      for (let flips = int(4); flips > 0; flips--) bytes[int(bytes.length)] = int(256)
      if (int(5) === 0) bytes = bytes.subarray(0, int(bytes.length))
      try {
        for (let at = 0; at < bytes.length; ) {
          const n = 1 + int(64)
          socket.emit('data', bytes.subarray(at, at + n))
          at += n
        }
        socket.emit('close')
      } catch (err) {
        throw new Error(`case ${c} (seed ${seed}) threw: ${(err as Error).stack}\nbytes: ${bytes.toString('hex')}`)
      }
      for (const r of requests) {
        if (r.ended !== 1) throw new Error(`case ${c} (seed ${seed}): a request ended ${r.ended} times: ${r.log.join(', ')}\nbytes: ${bytes.toString('hex')}`)
        for (const err of r.errors) codes.add((err as Error & { code: string }).code)
      }
    }
    // Every failure is one of the classified kinds (stream error, connection error, socket closed).
    expect([...codes].sort()).toEqual(['ERR_HTTP2_SESSION_ERROR', 'ERR_HTTP2_STREAM_ERROR', 'UND_ERR_SOCKET'])
  })
})
