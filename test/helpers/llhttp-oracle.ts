import { createRequire } from 'node:module'

/**
 * llhttp — the parser of Node's http module and of undici — as a test oracle: the WebAssembly
 * build that undici ships (`undici/lib/llhttp/llhttp-wasm.js`), driven directly, with the
 * callbacks undici's HTTP/1.1 client gives it (HEAD and 1xx responses skip their bodies, 101
 * is refused). No sockets: thousands of cases a second, each split however the test likes.
 */

/** What a client makes of a response: the first final response, or why there is none. */
export type Verdict =
  | { ok: true; status: number; reason: string; headers: Array<[string, string]>; body: string; keepAlive: boolean; leftover: number }
  | { ok: false; error: string }

interface LlhttpExports {
  memory: WebAssembly.Memory
  llhttp_alloc(type: number): number
  llhttp_free(ptr: number): void
  malloc(size: number): number
  free(ptr: number): void
  llhttp_execute(parser: number, data: number, length: number): number
  llhttp_finish(parser: number): number
  llhttp_get_error_reason(parser: number): number
  llhttp_get_error_pos(parser: number): number
  llhttp_should_keep_alive(parser: number): number
}

const RESPONSE = 2
const OK = 0
const PAUSED = 21

interface Message {
  status: number
  reason: string
  fields: string[]
  values: string[]
  lastWasValue: boolean
  /** After the head, fields are trailers (undici hands them apart, to onComplete). */
  headDone: boolean
  body: Buffer[]
}

let current: { base: number; data: Buffer; head: boolean; messages: Message[]; done: Message | null; keepAlive: boolean; exports: LlhttpExports; parser: number } | null = null

const slice = (at: number, length: number): string => {
  const c = current!
  return c.data.toString('latin1', at - c.base, at - c.base + length)
}

let instance: LlhttpExports | null = null

function llhttp(): LlhttpExports {
  if (instance !== null) return instance
  const require = createRequire(import.meta.url)
  const bytes = require('undici/lib/llhttp/llhttp-wasm.js') as Buffer
  const message = (): Message => current!.messages.at(-1)!
  const wasm = new WebAssembly.Instance(new WebAssembly.Module(bytes), {
    env: {
      wasm_on_url: () => 0,
      wasm_on_message_begin: () => {
        current!.messages.push({ status: 0, reason: '', fields: [], values: [], lastWasValue: false, headDone: false, body: [] })
        return 0
      },
      wasm_on_status: (_p: number, at: number, length: number) => {
        message().reason += slice(at, length)
        return 0
      },
      wasm_on_header_field: (_p: number, at: number, length: number) => {
        const m = message()
        if (m.headDone) return 0
        if (m.lastWasValue || m.fields.length === 0) {
          m.fields.push('')
          m.values.push('')
        }
        m.fields[m.fields.length - 1] += slice(at, length)
        m.lastWasValue = false
        return 0
      },
      wasm_on_header_value: (_p: number, at: number, length: number) => {
        const m = message()
        if (m.headDone) return 0
        m.values[m.values.length - 1] += slice(at, length)
        m.lastWasValue = true
        return 0
      },
      wasm_on_headers_complete: (_p: number, status: number, upgrade: number) => {
        const m = message()
        m.status = status
        m.headDone = true
        if (upgrade === 1 || status === 101) return -1 // undici: "bad upgrade"
        // undici's onHeadersComplete: no body after HEAD or a 1xx.
        if (current!.head || status < 200) return 1
        return 0
      },
      wasm_on_body: (_p: number, at: number, length: number) => {
        const c = current!
        message().body.push(Buffer.from(c.data.subarray(at - c.base, at - c.base + length)))
        return 0
      },
      wasm_on_message_complete: (p: number) => {
        const c = current!
        const m = message()
        if (m.status >= 200 && c.done === null) {
          c.done = m
          c.keepAlive = c.exports.llhttp_should_keep_alive(p) === 1
          return PAUSED
        }
        return 0
      },
    },
  })
  instance = wasm.exports as unknown as LlhttpExports
  return instance
}

/**
 * Feeds `pieces` to a fresh llhttp response parser, then ends the stream (as a server closing the
 * connection would). `head`: the request was a HEAD.
 */
export function llhttpVerdict(pieces: readonly Buffer[], head = false): Verdict {
  const exports = llhttp()
  const parser = exports.llhttp_alloc(RESPONSE)
  const state = { base: 0, data: Buffer.alloc(0), head, messages: [] as Message[], done: null as Message | null, keepAlive: false, exports, parser }
  let leftover = 0
  try {
    for (let i = 0; i < pieces.length; i++) {
      const piece = pieces[i]!
      if (piece.length === 0) continue
      const ptr = exports.malloc(piece.length)
      try {
        new Uint8Array(exports.memory.buffer, ptr, piece.length).set(piece)
        current = { ...state, base: ptr, data: piece }
        current.messages = state.messages
        const ret = exports.llhttp_execute(parser, ptr, piece.length)
        state.done = current.done
        state.keepAlive = current.keepAlive
        if (ret === PAUSED && state.done !== null) {
          leftover = piece.length - (exports.llhttp_get_error_pos(parser) - ptr)
          for (let j = i + 1; j < pieces.length; j++) leftover += pieces[j]!.length
          return verdictOf(state.done, state.keepAlive, leftover)
        }
        if (ret !== OK) return { ok: false, error: errorReason(exports, parser) }
      } finally {
        current = null
        exports.free(ptr)
      }
    }
    current = { ...state }
    current.messages = state.messages
    const ret = exports.llhttp_finish(parser)
    const done = current.done
    const keepAlive = current.keepAlive
    current = null
    if (done !== null) return verdictOf(done, keepAlive, 0)
    return { ok: false, error: ret === OK ? 'incomplete response at end of stream' : errorReason(exports, parser) }
  } finally {
    current = null
    exports.llhttp_free(parser)
  }
}

function errorReason(exports: LlhttpExports, parser: number): string {
  const ptr = exports.llhttp_get_error_reason(parser)
  if (ptr === 0) return 'error'
  const bytes = new Uint8Array(exports.memory.buffer, ptr)
  return Buffer.from(bytes.subarray(0, bytes.indexOf(0))).toString()
}

function verdictOf(m: Message, keepAlive: boolean, leftover: number): Verdict {
  return {
    ok: true,
    status: m.status,
    reason: m.reason,
    headers: m.fields.map((f, i) => [f, m.values[i]!]),
    body: Buffer.concat(m.body).toString('latin1'),
    keepAlive,
    leftover,
  }
}
