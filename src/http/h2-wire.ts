import type { Socket } from 'node:net'
import { H2Error } from './h2-connect.js'
import { HpackDecoder, HpackError, type DecodedBlock } from './hpack.js'

/**
 * Loads' own HTTP/2 client connection (RFC 9113): frames read and written on the socket directly,
 * HPACK by hpack.ts. It exists for speed: node:http2 costs several times more CPU per request
 * than a load generator can afford (an Http2Stream, header objects both ways, async hooks per
 * stream); see bench/README.md "TLS, HTTP/2 and gRPC". node:http2 stays selectable
 * (`LOADS_HTTP2=node`) as the reference the tests compare this with.
 *
 * What it does: connection preface and SETTINGS (push off, a 1 MiB stream window, a 16 MiB
 * connection window), SETTINGS/PING acknowledgements, HEADERS + CONTINUATION both ways, DATA
 * with connection and stream flow control both ways, RST_STREAM, GOAWAY (streams above the last
 * id fail as refused, the others finish), MAX_CONCURRENT_STREAMS (requests wait for a slot),
 * padding, informational responses and trailers (skipped), content-length checked against DATA.
 * Protocol violations by the server end the connection with GOAWAY and the error code RFC 9113
 * names; every stream on it fails with a classified error.
 */

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1')
const DATA = 0
const HEADERS = 1
const PRIORITY = 2
const RST_STREAM = 3
const SETTINGS = 4
const PUSH_PROMISE = 5
const PING = 6
const GOAWAY = 7
const WINDOW_UPDATE = 8
const CONTINUATION = 9
const FLAG_END_STREAM = 0x1
const FLAG_ACK = 0x1
const FLAG_END_HEADERS = 0x4
const FLAG_PADDED = 0x8
const FLAG_PRIORITY = 0x20

export const NO_ERROR = 0
export const PROTOCOL_ERROR = 1
const INTERNAL_ERROR = 2
const FLOW_CONTROL_ERROR = 3
const FRAME_SIZE_ERROR = 6
export const REFUSED_STREAM = 7
export const CANCEL = 8
const COMPRESSION_ERROR = 9
const ENHANCE_YOUR_CALM = 11
/** The names node:http2 uses in its messages, so both clients say the same thing. */
const ERROR_NAMES = ['NO_ERROR', 'PROTOCOL_ERROR', 'INTERNAL_ERROR', 'FLOW_CONTROL_ERROR', 'SETTINGS_TIMEOUT', 'STREAM_CLOSED', 'FRAME_SIZE_ERROR', 'REFUSED_STREAM', 'CANCEL', 'COMPRESSION_ERROR', 'CONNECT_ERROR', 'ENHANCE_YOUR_CALM', 'INADEQUATE_SECURITY', 'HTTP_1_1_REQUIRED']
function errorName(code: number): string {
  return `NGHTTP2_${ERROR_NAMES[code] ?? `UNKNOWN_${code}`}`
}

/** The largest frame payload we accept (the default; we do not raise it). */
const MAX_FRAME = 16384
/** Stream receive window we announce (SETTINGS_INITIAL_WINDOW_SIZE), as the node:http2 path did. */
const STREAM_WINDOW = 1 << 20
/** Connection receive window, raised from 65,535 by a WINDOW_UPDATE right after the preface. */
const CONNECTION_WINDOW = 1 << 24
/** A response's header list (RFC 9113 §6.5.2 measure) may hold this much: as node:http2's default (64 KiB). */
export const MAX_HEADER_LIST = 65536
/** Header block bytes (HEADERS + CONTINUATION) kept while waiting for END_HEADERS. */
const MAX_HEADER_BLOCK = 256 * 1024
const MAX_WINDOW = 0x7fffffff

/** What a stream tells its request. Called at most once each, except onData; onEnd / onError end it. */
export interface WireStreamEvents {
  /**
   * The final response head: status, the fields other than pseudo-headers, [name, value, …], and
   * its content-length (-1 when none). Responses that repeat a header block get the same list: it
   * must not be changed.
   */
  onResponse(status: number, fields: string[], contentLength: number): void
  onData(chunk: Buffer): void
  onEnd(): void
  onError(err: Error): void
}

/** A stream of a WireSession, as its request sees it. */
export class WireStream {
  id = 0
  readonly events: WireStreamEvents
  readonly head: boolean
  /** Bytes we may still send (the peer's window for this stream). */
  sendWindow = 0
  /** Bytes the peer may still send us before our next WINDOW_UPDATE. */
  recvWindow = STREAM_WINDOW
  /** Received and not yet given back by WINDOW_UPDATE. */
  recvUnacked = 0
  /** Body still to send, from `bodyOffset`. */
  body: Buffer | null
  bodyOffset = 0
  gotHeaders = false
  /** content-length of the response, -1 when none. */
  expectedLength = -1
  receivedLength = 0
  done = false
  readonly #session: WireSession
  /** The header block to send once the stream may open (MAX_CONCURRENT_STREAMS). */
  block: Buffer | null

  constructor(session: WireSession, block: Buffer, body: Buffer | null, head: boolean, events: WireStreamEvents) {
    this.#session = session
    this.block = block
    this.body = body
    this.head = head
    this.events = events
  }

  /** The request gave up (timeout, abort): RST_STREAM(CANCEL); nothing more reaches `events`. */
  cancel(): void {
    this.#session.cancel(this)
  }
}

type SessionEvent = 'error' | 'goaway' | 'close'

/** One HTTP/2 connection over an open socket (TLS with ALPN h2, or plain TCP for h2c). */
export class WireSession {
  readonly #socket: Socket
  readonly #streams = new Map<number, WireStream>()
  #nextId = 1
  readonly #decoder = new HpackDecoder(4096)
  #peerMaxFrame = 16384
  #peerInitialWindow = 65535
  #peerMaxStreams = Number.POSITIVE_INFINITY
  /** Connection-level send window (the peer's). */
  #sendWindow = 65535
  #recvWindow = CONNECTION_WINDOW
  #recvUnacked = 0
  #buffered: Buffer | null = null
  #gotSettings = false
  /** A header block in progress (HEADERS without END_HEADERS): its stream, flags and bytes. */
  #blockStream = 0
  #blockEndStream = false
  #blockParts: Buffer[] = []
  #blockLength = 0
  /** The last response head read, and the decoded block it was read from. */
  #lastHead: ResponseHead | null = null
  #lastDecoded: DecodedBlock | null = null
  /** Streams waiting for a slot under the peer's MAX_CONCURRENT_STREAMS, in order. */
  readonly #queued: WireStream[] = []
  /** Streams with body bytes waiting for window. */
  readonly #blocked = new Set<WireStream>()
  #goaway = false
  #closing = false
  #destroyed = false
  readonly #listeners: Record<SessionEvent, Array<(arg?: unknown) => void>> = { error: [], goaway: [], close: [] }

  /**
   * @param ownReads the creator reads the socket itself (`onread`, no Readable in the way) and
   *   hands each chunk to `receive`; otherwise the session listens for 'data'.
   */
  constructor(socket: Socket, ownReads = false) {
    this.#socket = socket
    const settings = Buffer.alloc(9 + 12)
    frameHeader(settings, 0, 12, SETTINGS, 0, 0)
    settings.writeUInt16BE(0x2, 9) // ENABLE_PUSH
    settings.writeUInt32BE(0, 11)
    settings.writeUInt16BE(0x4, 15) // INITIAL_WINDOW_SIZE
    settings.writeUInt32BE(STREAM_WINDOW, 17)
    const update = Buffer.alloc(13)
    frameHeader(update, 0, 4, WINDOW_UPDATE, 0, 0)
    update.writeUInt32BE(CONNECTION_WINDOW - 65535, 9)
    socket.write(Buffer.concat([PREFACE, settings, update]))
    if (!ownReads) socket.on('data', (chunk: Buffer) => this.#onData(chunk))
    socket.on('error', (err: Error) => this.#onSocketGone(err))
    socket.on('close', () => this.#onSocketGone(null))
    socket.on('end', () => this.#onSocketGone(null))
  }

  /** Bytes read from the socket, when the creator reads it (`ownReads`); the session may keep views of them. */
  receive(chunk: Buffer): void {
    this.#onData(chunk)
  }

  /** Whether new streams may start (no GOAWAY, not closing, socket open). */
  get accepting(): boolean {
    return !this.#goaway && !this.#closing && !this.#destroyed
  }

  on(event: SessionEvent, listener: (arg?: unknown) => void): this {
    this.#listeners[event].push(listener)
    return this
  }

  /**
   * Starts a request: `block` is its HPACK header block (hpack.ts), `body` what follows (null:
   * none, END_STREAM on HEADERS). `head`: a HEAD request (its content-length describes no body).
   */
  request(block: Buffer, body: Buffer | null, head: boolean, events: WireStreamEvents): WireStream {
    const stream = new WireStream(this, block, body !== null && body.length > 0 ? body : null, head, events)
    if (!this.accepting) {
      stream.done = true
      process.nextTick(() => events.onError(new H2Error('UND_ERR_SOCKET', 'The HTTP/2 session is closed')))
      return stream
    }
    if (this.#streams.size >= this.#peerMaxStreams) this.#queued.push(stream)
    else this.#open(stream)
    return stream
  }

  /** Ends the connection once its streams are done (GOAWAY NO_ERROR, then the socket closes). */
  close(): void {
    if (this.#closing || this.#destroyed) return
    this.#closing = true
    this.#endIfIdle()
  }

  /** Ends the connection now; its streams fail. */
  destroy(err?: Error): void {
    if (this.#destroyed) return
    this.#failAll(err ?? new H2Error('UND_ERR_DESTROYED', 'The client is destroyed'))
    this.#destroyed = true
    this.#socket.destroy()
    this.#emit('close')
  }

  /** @internal WireStream.cancel. */
  cancel(stream: WireStream): void {
    if (stream.done) return
    stream.done = true
    const queued = this.#queued.indexOf(stream)
    if (queued !== -1) {
      this.#queued.splice(queued, 1)
      return
    }
    this.#blocked.delete(stream)
    if (stream.id !== 0 && this.#streams.delete(stream.id)) {
      this.#rst(stream.id, CANCEL)
      this.#afterStreamEnd()
    }
  }

  #open(stream: WireStream): void {
    const id = this.#nextId
    this.#nextId += 2
    if (this.#nextId > MAX_WINDOW) {
      // Stream ids are spent (2^30 requests): this is the connection's last stream; the link
      // opens a new connection for the next request.
      this.#goaway = true
      for (const queued of this.#queued.splice(0)) this.#failStream(queued, resetError(REFUSED_STREAM))
      this.#emit('goaway')
    }
    stream.id = id
    stream.sendWindow = this.#peerInitialWindow
    this.#streams.set(id, stream)
    const block = stream.block!
    stream.block = null
    const endStream = stream.body === null ? FLAG_END_STREAM : 0
    if (block.length <= this.#peerMaxFrame) {
      const frame = Buffer.allocUnsafe(9 + block.length)
      frameHeader(frame, 0, block.length, HEADERS, FLAG_END_HEADERS | endStream, id)
      block.copy(frame, 9)
      this.#socket.write(frame)
    } else {
      // HEADERS, then CONTINUATION frames, back to back (RFC 9113 §6.10).
      const frames: Buffer[] = []
      for (let at = 0; at < block.length; at += this.#peerMaxFrame) {
        const part = block.subarray(at, at + this.#peerMaxFrame)
        const last = at + this.#peerMaxFrame >= block.length
        const header = Buffer.allocUnsafe(9)
        frameHeader(header, 0, part.length, at === 0 ? HEADERS : CONTINUATION, (last ? FLAG_END_HEADERS : 0) | (at === 0 ? endStream : 0), id)
        frames.push(header, part)
      }
      this.#socket.write(Buffer.concat(frames))
    }
    if (stream.body !== null) this.#sendBody(stream)
  }

  /** Sends as much of the stream's body as the windows allow; the rest waits for WINDOW_UPDATE. */
  #sendBody(stream: WireStream): void {
    const body = stream.body!
    while (stream.bodyOffset < body.length) {
      const n = Math.min(body.length - stream.bodyOffset, stream.sendWindow, this.#sendWindow, this.#peerMaxFrame)
      if (n <= 0) {
        this.#blocked.add(stream)
        return
      }
      const last = stream.bodyOffset + n === body.length
      const header = Buffer.allocUnsafe(9)
      frameHeader(header, 0, n, DATA, last ? FLAG_END_STREAM : 0, stream.id)
      this.#socket.write(header)
      this.#socket.write(body.subarray(stream.bodyOffset, stream.bodyOffset + n))
      stream.bodyOffset += n
      stream.sendWindow -= n
      this.#sendWindow -= n
    }
    stream.body = null
    this.#blocked.delete(stream)
  }

  #unblock(): void {
    for (const stream of [...this.#blocked]) {
      if (this.#sendWindow <= 0) return
      if (stream.sendWindow > 0) this.#sendBody(stream)
    }
  }

  #onData(chunk: Buffer): void {
    if (this.#destroyed) return
    let buf = chunk
    if (this.#buffered !== null) {
      buf = Buffer.concat([this.#buffered, chunk])
      this.#buffered = null
    }
    let pos = 0
    while (buf.length - pos >= 9) {
      const length = (buf[pos]! << 16) | (buf[pos + 1]! << 8) | buf[pos + 2]!
      if (length > MAX_FRAME) {
        this.#connectionError(FRAME_SIZE_ERROR, `frame of ${length} bytes exceeds the ${MAX_FRAME} allowed`)
        return
      }
      if (buf.length - pos - 9 < length) break
      const type = buf[pos + 3]!
      const flags = buf[pos + 4]!
      const id = buf.readUInt32BE(pos + 5) & 0x7fffffff
      const start = pos + 9
      pos = start + length
      this.#frame(type, flags, id, buf, start, pos)
      if (this.#destroyed) return
    }
    if (pos < buf.length) this.#buffered = buf.subarray(pos)
  }

  #frame(type: number, flags: number, id: number, buf: Buffer, start: number, end: number): void {
    if (!this.#gotSettings) {
      if (type !== SETTINGS || (flags & FLAG_ACK) !== 0) {
        this.#connectionError(PROTOCOL_ERROR, 'the server did not start with SETTINGS')
        return
      }
      this.#gotSettings = true
    }
    if (this.#blockStream !== 0 && (type !== CONTINUATION || id !== this.#blockStream)) {
      this.#connectionError(PROTOCOL_ERROR, 'a header block was interrupted by another frame')
      return
    }
    switch (type) {
      case DATA:
        this.#onDataFrame(flags, id, buf, start, end)
        return
      case HEADERS:
        this.#onHeadersFrame(flags, id, buf, start, end)
        return
      case CONTINUATION:
        this.#onContinuation(flags, id, buf, start, end)
        return
      case PRIORITY:
        if (id === 0) this.#connectionError(PROTOCOL_ERROR, 'PRIORITY on stream 0')
        else if (end - start !== 5) this.#streamError(id, FRAME_SIZE_ERROR, 'PRIORITY frame of the wrong size')
        return
      case RST_STREAM:
        this.#onRst(id, buf, start, end)
        return
      case SETTINGS:
        this.#onSettings(flags, id, buf, start, end)
        return
      case PUSH_PROMISE:
        this.#connectionError(PROTOCOL_ERROR, 'PUSH_PROMISE although push is disabled')
        return
      case PING:
        if (id !== 0) this.#connectionError(PROTOCOL_ERROR, 'PING on a stream')
        else if (end - start !== 8) this.#connectionError(FRAME_SIZE_ERROR, 'PING frame of the wrong size')
        else if ((flags & FLAG_ACK) === 0) {
          const pong = Buffer.allocUnsafe(17)
          frameHeader(pong, 0, 8, PING, FLAG_ACK, 0)
          buf.copy(pong, 9, start, end)
          this.#socket.write(pong)
        }
        return
      case GOAWAY:
        this.#onGoaway(id, buf, start, end)
        return
      case WINDOW_UPDATE:
        this.#onWindowUpdate(id, buf, start, end)
        return
      default:
        // Unknown frame types are ignored (RFC 9113 §4.1).
        return
    }
  }

  /** The stream `id` names, undefined for one already closed; a connection error (and undefined) for one that never was. */
  #known(id: number, what: string): WireStream | undefined {
    const stream = this.#streams.get(id)
    if (stream !== undefined) return stream
    if (id === 0 || id % 2 === 0 || id >= this.#nextId) this.#connectionError(PROTOCOL_ERROR, `${what} on stream ${id}, which the client never opened`)
    return undefined
  }

  #onDataFrame(flags: number, id: number, buf: Buffer, start: number, end: number): void {
    const length = end - start
    this.#recvWindow -= length
    if (this.#recvWindow < 0) {
      this.#connectionError(FLOW_CONTROL_ERROR, 'the server sent more DATA than the connection window')
      return
    }
    this.#recvUnacked += length
    if (this.#recvUnacked >= CONNECTION_WINDOW / 2) {
      this.#windowUpdate(0, this.#recvUnacked)
      this.#recvWindow += this.#recvUnacked
      this.#recvUnacked = 0
    }
    const stream = this.#known(id, 'DATA')
    if (stream === undefined) return
    let dataEnd = end
    if ((flags & FLAG_PADDED) !== 0) {
      const pad = length > 0 ? buf[start]! : 0
      if (length === 0 || pad >= length) {
        this.#connectionError(PROTOCOL_ERROR, 'DATA padding longer than the frame')
        return
      }
      start += 1
      dataEnd = end - pad
    }
    if (!stream.gotHeaders) {
      this.#streamError(id, PROTOCOL_ERROR, 'DATA before the response headers')
      return
    }
    stream.recvWindow -= length
    if (stream.recvWindow < 0) {
      this.#streamError(id, FLOW_CONTROL_ERROR, 'the server sent more DATA than the stream window')
      return
    }
    const size = dataEnd - start
    stream.receivedLength += size
    if (stream.expectedLength >= 0 && stream.receivedLength > stream.expectedLength) {
      this.#streamError(id, PROTOCOL_ERROR, 'the server sent more DATA than its content-length')
      return
    }
    if (size > 0) stream.events.onData(buf.subarray(start, dataEnd))
    if (stream.done) return // the request gave up while reading
    if ((flags & FLAG_END_STREAM) !== 0) {
      this.#remoteEnd(stream)
      return
    }
    stream.recvUnacked += length
    if (stream.recvUnacked >= STREAM_WINDOW / 2) {
      this.#windowUpdate(id, stream.recvUnacked)
      stream.recvWindow += stream.recvUnacked
      stream.recvUnacked = 0
    }
  }

  #onHeadersFrame(flags: number, id: number, buf: Buffer, start: number, end: number): void {
    if (id === 0) {
      this.#connectionError(PROTOCOL_ERROR, 'HEADERS on stream 0')
      return
    }
    let fragmentEnd = end
    if ((flags & FLAG_PADDED) !== 0) {
      const pad = end > start ? buf[start]! : 0
      start += 1
      fragmentEnd = end - pad
    }
    if ((flags & FLAG_PRIORITY) !== 0) start += 5
    if (fragmentEnd < start) {
      this.#connectionError(PROTOCOL_ERROR, 'HEADERS padding or priority longer than the frame')
      return
    }
    const endStream = (flags & FLAG_END_STREAM) !== 0
    if ((flags & FLAG_END_HEADERS) !== 0) {
      this.#headerBlock(id, endStream, buf, start, fragmentEnd)
      return
    }
    this.#blockStream = id
    this.#blockEndStream = endStream
    this.#blockParts = [Buffer.from(buf.subarray(start, fragmentEnd))]
    this.#blockLength = fragmentEnd - start
  }

  #onContinuation(flags: number, id: number, buf: Buffer, start: number, end: number): void {
    if (this.#blockStream === 0) {
      this.#connectionError(PROTOCOL_ERROR, 'CONTINUATION without a header block in progress')
      return
    }
    this.#blockLength += end - start
    if (this.#blockLength > MAX_HEADER_BLOCK) {
      this.#connectionError(ENHANCE_YOUR_CALM, `a header block of more than ${MAX_HEADER_BLOCK} bytes`)
      return
    }
    this.#blockParts.push(Buffer.from(buf.subarray(start, end)))
    if ((flags & FLAG_END_HEADERS) === 0) return
    const block = Buffer.concat(this.#blockParts)
    this.#blockStream = 0
    this.#blockParts = []
    this.#headerBlock(id, this.#blockEndStream, block, 0, block.length)
  }

  #headerBlock(id: number, endStream: boolean, block: Buffer, start: number, end: number): void {
    let decoded: DecodedBlock
    try {
      // Decoded even for a stream already closed: the table must stay in step.
      decoded = this.#decoder.decodeBlock(block, start, end, MAX_HEADER_LIST)
    } catch (err) {
      this.#connectionError(COMPRESSION_ERROR, `the server's header block does not decode: ${(err as HpackError).message}`)
      return
    }
    const stream = this.#known(id, 'HEADERS')
    if (stream === undefined) return
    if (decoded.listSize < 0) {
      this.#streamError(id, ENHANCE_YOUR_CALM, `the response's header list exceeds ${MAX_HEADER_LIST} bytes`)
      return
    }
    if (stream.gotHeaders) {
      // Trailers: they must end the stream; their fields are not kept.
      if (!endStream) this.#streamError(id, PROTOCOL_ERROR, 'a second header block that does not end the stream')
      else this.#remoteEnd(stream)
      return
    }
    // A repeated block is the same object as before (HpackDecoder.decodeBlock): so is its head.
    let head = this.#lastHead
    if (head === null || this.#lastDecoded !== decoded) {
      head = responseHead(decoded.fields)
      this.#lastHead = head
      this.#lastDecoded = decoded
    }
    if (head.error !== null) {
      this.#streamError(id, PROTOCOL_ERROR, head.error)
      return
    }
    const status = head.status
    if (status < 200) {
      // Informational (1xx): the final response follows; one that ends the stream is malformed.
      if (endStream) this.#streamError(id, PROTOCOL_ERROR, 'an informational response ended the stream')
      return
    }
    // HEAD, 204 and 304 carry no body whatever content-length says.
    stream.expectedLength = stream.head || status === 204 || status === 304 ? -1 : head.contentLength
    stream.gotHeaders = true
    stream.events.onResponse(status, head.fields, head.contentLength)
    if (endStream && !stream.done) this.#remoteEnd(stream)
  }

  #onRst(id: number, buf: Buffer, start: number, end: number): void {
    if (end - start !== 4) {
      this.#connectionError(FRAME_SIZE_ERROR, 'RST_STREAM frame of the wrong size')
      return
    }
    const stream = this.#known(id, 'RST_STREAM')
    if (stream === undefined) return
    const code = buf.readUInt32BE(start)
    this.#streams.delete(id)
    this.#blocked.delete(stream)
    this.#failStream(stream, resetError(code))
    this.#afterStreamEnd()
  }

  #onSettings(flags: number, id: number, buf: Buffer, start: number, end: number): void {
    if (id !== 0) {
      this.#connectionError(PROTOCOL_ERROR, 'SETTINGS on a stream')
      return
    }
    if ((flags & FLAG_ACK) !== 0) {
      if (end !== start) this.#connectionError(FRAME_SIZE_ERROR, 'SETTINGS acknowledgement with a payload')
      return
    }
    if ((end - start) % 6 !== 0) {
      this.#connectionError(FRAME_SIZE_ERROR, 'SETTINGS frame of the wrong size')
      return
    }
    for (let at = start; at < end; at += 6) {
      const key = buf.readUInt16BE(at)
      const value = buf.readUInt32BE(at + 2)
      if (key === 0x2 && value > 1) return this.#connectionError(PROTOCOL_ERROR, 'SETTINGS_ENABLE_PUSH above 1')
      if (key === 0x3) this.#peerMaxStreams = value
      if (key === 0x4) {
        if (value > MAX_WINDOW) return this.#connectionError(FLOW_CONTROL_ERROR, 'SETTINGS_INITIAL_WINDOW_SIZE above 2^31-1')
        const delta = value - this.#peerInitialWindow
        this.#peerInitialWindow = value
        for (const stream of this.#streams.values()) stream.sendWindow += delta
      }
      if (key === 0x5) {
        if (value < 16384 || value > 16777215) return this.#connectionError(PROTOCOL_ERROR, 'SETTINGS_MAX_FRAME_SIZE out of range')
        this.#peerMaxFrame = value
      }
      // HEADER_TABLE_SIZE: our encoder never uses the dynamic table. MAX_HEADER_LIST_SIZE: advisory.
    }
    const ack = Buffer.allocUnsafe(9)
    frameHeader(ack, 0, 0, SETTINGS, FLAG_ACK, 0)
    this.#socket.write(ack)
    this.#unblock()
    this.#startQueued()
  }

  #onGoaway(id: number, buf: Buffer, start: number, end: number): void {
    if (id !== 0) {
      this.#connectionError(PROTOCOL_ERROR, 'GOAWAY on a stream')
      return
    }
    if (end - start < 8) {
      this.#connectionError(FRAME_SIZE_ERROR, 'GOAWAY frame too short')
      return
    }
    const last = buf.readUInt32BE(start) & 0x7fffffff
    const first = !this.#goaway
    this.#goaway = true
    // Streams above the last the server will process were not processed: they fail as refused
    // (node:http2 says the same), and so do requests still waiting for a slot.
    for (const [streamId, stream] of [...this.#streams]) {
      if (streamId <= last) continue
      this.#streams.delete(streamId)
      this.#blocked.delete(stream)
      this.#failStream(stream, resetError(REFUSED_STREAM))
    }
    for (const stream of this.#queued.splice(0)) this.#failStream(stream, resetError(REFUSED_STREAM))
    if (first) this.#emit('goaway')
    this.#endIfIdle()
  }

  #onWindowUpdate(id: number, buf: Buffer, start: number, end: number): void {
    if (end - start !== 4) {
      this.#connectionError(FRAME_SIZE_ERROR, 'WINDOW_UPDATE frame of the wrong size')
      return
    }
    const increment = buf.readUInt32BE(start) & 0x7fffffff
    if (id === 0) {
      if (increment === 0) return this.#connectionError(PROTOCOL_ERROR, 'WINDOW_UPDATE of 0')
      this.#sendWindow += increment
      if (this.#sendWindow > MAX_WINDOW) return this.#connectionError(FLOW_CONTROL_ERROR, 'connection window above 2^31-1')
      this.#unblock()
      return
    }
    const stream = this.#known(id, 'WINDOW_UPDATE')
    if (stream === undefined) return
    if (increment === 0) return this.#streamError(id, PROTOCOL_ERROR, 'WINDOW_UPDATE of 0')
    stream.sendWindow += increment
    if (stream.sendWindow > MAX_WINDOW) return this.#streamError(id, FLOW_CONTROL_ERROR, 'stream window above 2^31-1')
    if (stream.body !== null && this.#blocked.has(stream)) this.#sendBody(stream)
  }

  /** The server ended the stream: check the body's length, then complete. */
  #remoteEnd(stream: WireStream): void {
    if (stream.expectedLength >= 0 && stream.receivedLength !== stream.expectedLength) {
      this.#streamError(stream.id, PROTOCOL_ERROR, 'the server sent less DATA than its content-length')
      return
    }
    this.#streams.delete(stream.id)
    this.#blocked.delete(stream)
    // Our side may still be sending a body: the server has answered, so it is cut (RFC 9113 §8.1).
    if (stream.body !== null) this.#rst(stream.id, NO_ERROR)
    if (!stream.done) {
      stream.done = true
      stream.events.onEnd()
    }
    this.#afterStreamEnd()
  }

  #afterStreamEnd(): void {
    this.#startQueued()
    this.#endIfIdle()
  }

  #startQueued(): void {
    while (this.#queued.length > 0 && this.#streams.size < this.#peerMaxStreams && this.accepting) this.#open(this.#queued.shift()!)
  }

  #endIfIdle(): void {
    if ((this.#closing || this.#goaway) && this.#streams.size === 0 && this.#queued.length === 0 && !this.#destroyed) {
      if (!this.#goaway) this.#sendGoaway(NO_ERROR, '')
      this.#destroyed = true
      this.#socket.destroySoon()
      this.#emit('close')
    }
  }

  #failStream(stream: WireStream, err: Error): void {
    if (stream.done) return
    stream.done = true
    stream.events.onError(err)
  }

  /** RST_STREAM for one stream; its request fails with the same message node:http2 gives. */
  #streamError(id: number, code: number, message: string): void {
    const stream = this.#streams.get(id)
    this.#rst(id, code)
    if (stream === undefined) return
    this.#streams.delete(id)
    this.#blocked.delete(stream)
    this.#failStream(stream, new H2Error('ERR_HTTP2_STREAM_ERROR', `Stream closed with error code ${errorName(code)}: ${message}`))
    this.#afterStreamEnd()
  }

  /** GOAWAY with `code`, the socket closed, every stream failed. */
  #connectionError(code: number, message: string): void {
    if (this.#destroyed) return
    this.#sendGoaway(code, message)
    const err = new H2Error('ERR_HTTP2_SESSION_ERROR', `Session closed with error code ${errorName(code)}: ${message}`)
    this.#failAll(err)
    this.#destroyed = true
    this.#socket.destroySoon()
    this.#emit('error', err)
    this.#emit('close')
  }

  #onSocketGone(err: Error | null): void {
    if (this.#destroyed) return
    this.#destroyed = true
    this.#failAll(err ?? new H2Error('UND_ERR_SOCKET', 'other side closed'))
    this.#socket.destroy()
    this.#emit('close')
  }

  #failAll(err: Error): void {
    const streams = [...this.#streams.values(), ...this.#queued]
    this.#streams.clear()
    this.#queued.length = 0
    this.#blocked.clear()
    for (const stream of streams) this.#failStream(stream, err)
  }

  #rst(id: number, code: number): void {
    if (this.#destroyed) return
    const frame = Buffer.allocUnsafe(13)
    frameHeader(frame, 0, 4, RST_STREAM, 0, id)
    frame.writeUInt32BE(code, 9)
    this.#socket.write(frame)
  }

  #windowUpdate(id: number, increment: number): void {
    const frame = Buffer.allocUnsafe(13)
    frameHeader(frame, 0, 4, WINDOW_UPDATE, 0, id)
    frame.writeUInt32BE(increment, 9)
    this.#socket.write(frame)
  }

  #sendGoaway(code: number, message: string): void {
    if (this.#socket.destroyed || !this.#socket.writable) return
    const debug = Buffer.from(message, 'utf8')
    const frame = Buffer.allocUnsafe(17 + debug.length)
    frameHeader(frame, 0, 8 + debug.length, GOAWAY, 0, 0)
    frame.writeUInt32BE(0, 9) // the client accepts no streams from the server
    frame.writeUInt32BE(code, 13)
    debug.copy(frame, 17)
    this.#socket.write(frame)
  }

  #emit(event: SessionEvent, arg?: unknown): void {
    const listeners = this.#listeners[event]
    this.#listeners[event] = []
    for (const listener of listeners) listener(arg)
  }
}

/** A response head as read from its decoded fields; shared by every response that repeats its block. */
interface ResponseHead {
  readonly status: number
  /** The fields other than pseudo-headers, [name, value, …]; never changed once made. */
  readonly fields: string[]
  /** content-length, -1 when none. */
  readonly contentLength: number
  /** Why the head is malformed (the stream fails with PROTOCOL_ERROR), or null. */
  readonly error: string | null
}

function responseHead(decoded: readonly string[]): ResponseHead {
  let status = -1
  let contentLength = -1
  const fields: string[] = []
  for (let i = 0; i < decoded.length; i += 2) {
    const name = decoded[i]!
    const value = decoded[i + 1]!
    if (name.charCodeAt(0) === 58 /* ':' */) {
      if (name !== ':status' || status !== -1 || fields.length > 0) return { status, fields, contentLength, error: `malformed response: pseudo-header ${name}` }
      status = /^[1-9]\d\d$/.test(value) ? Number(value) : -2
    } else {
      if (name === 'content-length') contentLength = /^\d{1,15}$/.test(value) ? Number(value) : -2
      fields.push(name, value)
    }
  }
  if (status < 0) return { status, fields, contentLength, error: 'malformed response: no valid :status' }
  if (contentLength === -2) return { status, fields, contentLength, error: 'malformed response: invalid content-length' }
  return { status, fields, contentLength, error: null }
}

/** The error a stream reset by the server (or refused by GOAWAY) fails with, as node:http2 words it. */
function resetError(code: number): H2Error {
  if (code === NO_ERROR) return new H2Error('UND_ERR_SOCKET', 'stream closed before its response ended (HTTP/2 error code 0)')
  return new H2Error('ERR_HTTP2_STREAM_ERROR', `Stream closed with error code ${errorName(code)}`)
}

function frameHeader(buf: Buffer, at: number, length: number, type: number, flags: number, id: number): void {
  buf[at] = length >>> 16
  buf[at + 1] = (length >>> 8) & 0xff
  buf[at + 2] = length & 0xff
  buf[at + 3] = type
  buf[at + 4] = flags
  buf.writeUInt32BE(id, at + 5)
}

/** Exposed for tests (frame parser fuzzing): the frame type numbers and error codes. */
export const FRAME = { DATA, HEADERS, PRIORITY, RST_STREAM, SETTINGS, PUSH_PROMISE, PING, GOAWAY, WINDOW_UPDATE, CONTINUATION } as const
export const ERROR = { NO_ERROR, PROTOCOL_ERROR, INTERNAL_ERROR, FLOW_CONTROL_ERROR, FRAME_SIZE_ERROR, REFUSED_STREAM, CANCEL, COMPRESSION_ERROR, ENHANCE_YOUR_CALM } as const
