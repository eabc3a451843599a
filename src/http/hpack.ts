/**
 * HPACK (RFC 7541) for Loads' own HTTP/2 client (h2-wire.ts): a full decoder (static and dynamic
 * tables, table size updates, Huffman) and a simple encoder (indexed fields for exact static
 * matches, otherwise literals without indexing, no Huffman — legal, RFC 7541 §6.2.2, and
 * stateless, so a request's header block can be built once and sent many times).
 *
 * Tested against the public hpack-test-case corpus (test/fixtures/hpack) and node:http2.
 */

/** A header block the peer sent that HPACK cannot decode: a connection error (COMPRESSION_ERROR). */
export class HpackError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'HpackError'
  }
}

/** RFC 7541 Appendix A. */
export const STATIC_TABLE: ReadonlyArray<readonly [string, string]> = [
  [':authority', ''], [':method', 'GET'], [':method', 'POST'], [':path', '/'], [':path', '/index.html'],
  [':scheme', 'http'], [':scheme', 'https'], [':status', '200'], [':status', '204'], [':status', '206'],
  [':status', '304'], [':status', '400'], [':status', '404'], [':status', '500'], ['accept-charset', ''],
  ['accept-encoding', 'gzip, deflate'], ['accept-language', ''], ['accept-ranges', ''], ['accept', ''],
  ['access-control-allow-origin', ''], ['age', ''], ['allow', ''], ['authorization', ''], ['cache-control', ''],
  ['content-disposition', ''], ['content-encoding', ''], ['content-language', ''], ['content-length', ''],
  ['content-location', ''], ['content-range', ''], ['content-type', ''], ['cookie', ''], ['date', ''], ['etag', ''],
  ['expect', ''], ['expires', ''], ['from', ''], ['host', ''], ['if-match', ''], ['if-modified-since', ''],
  ['if-none-match', ''], ['if-range', ''], ['if-unmodified-since', ''], ['last-modified', ''], ['link', ''],
  ['location', ''], ['max-forwards', ''], ['proxy-authenticate', ''], ['proxy-authorization', ''], ['range', ''],
  ['referer', ''], ['refresh', ''], ['retry-after', ''], ['server', ''], ['set-cookie', ''],
  ['strict-transport-security', ''], ['transfer-encoding', ''], ['user-agent', ''], ['vary', ''], ['via', ''],
  ['www-authenticate', ''],
]

/**
 * Code lengths of the Huffman code (RFC 7541 Appendix B), symbols 0–256 (256 is EOS). The code is
 * canonical: codes run in order of (length, symbol), so the lengths define it.
 */
const HUFFMAN_LENGTHS = [
  13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28,
  6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6, 5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10, 13, 6, 7, 7, 7, 7, 7, 7,
  7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6, 15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5, 6, 7,
  6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28, 20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23, 24, 24, 22, 23,
  24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24, 22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23, 21, 21, 22, 21,
  23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23, 26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25, 19, 21, 26, 27,
  27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27, 20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23, 26, 27, 26, 26,
  27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26, 30,
]

const EOS = 256
/**
 * The Huffman decoder as a 4-bit state machine (as nghttp2 does): states are the code tree's
 * inner nodes; entry [state * 16 + nibble] packs the next state (bits 0–7), an emitted symbol
 * (bits 8–15, when bit 16 is set), and bit 17 when the nibble walks into EOS (an error).
 * ACCEPTING[state]: a string may end there (the bits since the last symbol are 0–7 ones, RFC 7541 §5.2).
 */
const { HUFFMAN_FSM, ACCEPTING } = buildHuffmanFsm()

function buildHuffmanFsm(): { HUFFMAN_FSM: Int32Array; ACCEPTING: Uint8Array } {
  // The tree: inner nodes get numbers (root 0); children[node * 2 + bit] = inner node, or ~symbol for a leaf.
  const children: number[] = [0, 0]
  const depth = [0]
  const allOnes = [1]
  let inner = 1
  const order = Array.from({ length: 257 }, (_, s) => s).sort((a, b) => HUFFMAN_LENGTHS[a]! - HUFFMAN_LENGTHS[b]! || a - b)
  let code = 0
  let previous = HUFFMAN_LENGTHS[order[0]!]!
  for (let i = 0; i < order.length; i++) {
    const symbol = order[i]!
    const length = HUFFMAN_LENGTHS[symbol]!
    if (i > 0) code = (code + 1) * 2 ** (length - previous)
    previous = length
    let node = 0
    for (let bit = length - 1; bit >= 0; bit--) {
      const b = Math.floor(code / 2 ** bit) % 2
      if (bit === 0) {
        children[node * 2 + b] = ~symbol
        break
      }
      let next = children[node * 2 + b]!
      if (next === 0) {
        next = inner++
        children.push(0, 0)
        depth[next] = depth[node]! + 1
        allOnes[next] = allOnes[node]! === 1 && b === 1 ? 1 : 0
        children[node * 2 + b] = next
      }
      node = next
    }
  }
  const fsm = new Int32Array(inner * 16)
  const accepting = new Uint8Array(inner)
  for (let s = 0; s < inner; s++) accepting[s] = s === 0 || (allOnes[s] === 1 && depth[s]! <= 7) ? 1 : 0
  for (let s = 0; s < inner; s++) {
    for (let nibble = 0; nibble < 16; nibble++) {
      let node = s
      let entry = 0
      for (let bit = 3; bit >= 0; bit--) {
        const child = children[node * 2 + ((nibble >> bit) & 1)]!
        if (child < 0) {
          const symbol = ~child
          if (symbol === EOS) {
            entry |= 1 << 17
            break
          }
          entry |= (1 << 16) | (symbol << 8)
          node = 0
        } else node = child
      }
      fsm[s * 16 + nibble] = entry | node
    }
  }
  return { HUFFMAN_FSM: fsm, ACCEPTING: accepting }
}

let scratch = Buffer.allocUnsafe(4096)

/** Decodes `length` Huffman-coded bytes at `start` into a latin1 string. */
export function huffmanDecode(bytes: Uint8Array, start: number, end: number): string {
  // Each byte yields at most 8 / 5 symbols.
  const most = Math.ceil(((end - start) * 8) / 5)
  if (scratch.length < most) scratch = Buffer.allocUnsafe(Math.max(most, scratch.length * 2))
  const out = scratch
  let n = 0
  let state = 0
  for (let i = start; i < end; i++) {
    const byte = bytes[i]!
    let entry = HUFFMAN_FSM[state * 16 + (byte >> 4)]!
    if ((entry & 0x20000) !== 0) throw new HpackError('Huffman string holds the EOS symbol')
    if ((entry & 0x10000) !== 0) out[n++] = (entry >> 8) & 0xff
    state = entry & 0xff
    entry = HUFFMAN_FSM[state * 16 + (byte & 15)]!
    if ((entry & 0x20000) !== 0) throw new HpackError('Huffman string holds the EOS symbol')
    if ((entry & 0x10000) !== 0) out[n++] = (entry >> 8) & 0xff
    state = entry & 0xff
  }
  if (ACCEPTING[state] !== 1) throw new HpackError('Huffman string ends with invalid padding')
  return out.toString('latin1', 0, n)
}

/** Bytes a field takes in the table (RFC 7541 §4.1): octets of name and value, plus 32. */
function entrySize(name: string, value: string): number {
  return name.length + value.length + 32
}

/**
 * One connection's HPACK decoder. `maxTableSize` is the SETTINGS_HEADER_TABLE_SIZE we announced:
 * the most a table size update may ask for.
 */
/** A decoded header block: [name, value, …] and the list size (-1: over the bound). */
export interface DecodedBlock {
  readonly fields: readonly string[]
  readonly listSize: number
}

interface CachedBlock {
  readonly bytes: Buffer
  readonly generation: number
  readonly pure: boolean
  readonly inserts: string[]
  readonly decoded: DecodedBlock
  readonly maxListSize: number
}

export class HpackDecoder {
  /** Dynamic table, oldest first: index 62 is the last element. */
  readonly #names: string[] = []
  readonly #values: string[] = []
  #first = 0
  #size = 0
  #capacity: number
  readonly #limit: number
  /** Position while decoding a block. */
  #pos = 0
  /** Bumped by every change to the table: a block decodes alike only at the same generation. */
  #generation = 0
  /**
   * The last block decoded, with what it decoded to: servers send the same response head again
   * and again (nginx: literals with incremental indexing, Huffman-coded, only `date` changing
   * each second), so comparing bytes saves the decoding. A block that refers to no dynamic entry
   * and updates no size ("pure") decodes alike whatever the table holds: a repeat replays its
   * insertions. Any other block decodes alike only at the same table generation.
   */
  #last: CachedBlock | null = null
  /**
   * Repeats of the pure `#last` whose insertions are not in the table yet: nothing reads the
   * table until a block other than it comes, so they are replayed then (only as many as can
   * still show in a table of this capacity).
   */
  #pendingRepeats = 0
  /** While decoding: whether the block read a dynamic entry or changed the size; what it inserted. */
  #referenced = false
  #sizeUpdated = false
  #inserts: string[] = []

  constructor(maxTableSize = 4096) {
    this.#capacity = maxTableSize
    this.#limit = maxTableSize
  }

  /** Current dynamic table size in bytes (RFC 7541 §4.1), for tests. */
  get tableSize(): number {
    this.#replayPending()
    return this.#size
  }

  /**
   * Decodes one complete header block into `out` as [name, value, name, value, …] (latin1
   * strings). `maxListSize` bounds the decoded list (RFC 7540 §6.5.2's measure): over it the
   * block is still decoded to the end (the table must stay in step) and the result is -1;
   * otherwise the list size. Throws HpackError on a malformed block.
   */
  decode(block: Uint8Array, start: number, end: number, out: string[], maxListSize = Number.POSITIVE_INFINITY): number {
    const decoded = this.decodeBlock(block, start, end, maxListSize)
    const fields = decoded.fields
    for (let i = 0; i < fields.length; i++) out.push(fields[i]!)
    return decoded.listSize
  }

  /**
   * As `decode`, returning the fields and list size as one object. A block that repeats the one
   * before it (same bytes, decoding alike) returns the very object it returned then: callers may
   * key what they derive from a head on it. Never change what it returns.
   */
  decodeBlock(block: Uint8Array, start: number, end: number, maxListSize = Number.POSITIVE_INFINITY): DecodedBlock {
    const last = this.#last
    if (last !== null && (last.pure || last.generation === this.#generation) && last.maxListSize === maxListSize && last.bytes.length === end - start && last.bytes.compare(block, start, end) === 0) {
      if (last.pure) this.#pendingRepeats++
      else {
        const inserts = last.inserts
        for (let i = 0; i < inserts.length; i += 2) this.#insert(inserts[i]!, inserts[i + 1]!)
      }
      return last.decoded
    }
    this.#replayPending()
    const generation = this.#generation
    this.#referenced = false
    this.#sizeUpdated = false
    this.#inserts = []
    this.#last = null
    const fields: string[] = []
    const listSize = this.#decode(block, start, end, fields, maxListSize)
    const decoded: DecodedBlock = { fields, listSize }
    const pure = !this.#referenced && !this.#sizeUpdated
    if ((pure || this.#generation === generation) && end - start <= 1024) {
      this.#last = { bytes: Buffer.from(block.subarray(start, end)), generation: this.#generation, pure, inserts: this.#inserts, decoded, maxListSize }
    }
    return decoded
  }

  /** Puts the insertions of the deferred repeats into the table (see #pendingRepeats). */
  #replayPending(): void {
    const repeats = this.#pendingRepeats
    if (repeats === 0) return
    this.#pendingRepeats = 0
    const inserts = this.#last!.inserts
    if (inserts.length === 0) return
    let bytes = 0
    for (let i = 0; i < inserts.length; i += 2) bytes += entrySize(inserts[i]!, inserts[i + 1]!)
    // The table keeps the newest entries that fit: once the replayed repeats alone exceed its
    // capacity, anything inserted before them is evicted whatever came earlier, so the last
    // `needed` repeats leave the table as all of them would.
    const needed = Math.floor(this.#capacity / bytes) + 2
    for (let r = Math.min(repeats, needed); r > 0; r--) {
      for (let i = 0; i < inserts.length; i += 2) this.#insert(inserts[i]!, inserts[i + 1]!)
    }
  }

  #decode(block: Uint8Array, start: number, end: number, out: string[], maxListSize: number): number {
    this.#pos = start
    let listSize = 0
    let fieldsSeen = false
    while (this.#pos < end) {
      const byte = block[this.#pos]!
      let name: string
      let value: string
      if (byte >= 0x80) {
        const index = this.#integer(block, end, 7)
        if (index === 0) throw new HpackError('indexed field with index 0')
        name = this.#name(index)
        value = this.#value(index)
      } else if (byte >= 0x40) {
        const index = this.#integer(block, end, 6)
        name = index === 0 ? this.#string(block, end) : this.#name(index)
        value = this.#string(block, end)
        this.#insert(name, value)
        this.#inserts.push(name, value)
      } else if (byte >= 0x20) {
        // Dynamic table size update: only before the block's first field (RFC 7541 §4.2).
        if (fieldsSeen) throw new HpackError('table size update after a header field')
        const size = this.#integer(block, end, 5)
        if (size > this.#limit) throw new HpackError(`table size update to ${size} exceeds the ${this.#limit} announced`)
        this.#capacity = size
        this.#generation++
        this.#sizeUpdated = true
        this.#evict(0)
        continue
      } else {
        // Literal without indexing (0000) or never indexed (0001): same wire form.
        const index = this.#integer(block, end, 4)
        name = index === 0 ? this.#string(block, end) : this.#name(index)
        value = this.#string(block, end)
      }
      fieldsSeen = true
      if (listSize >= 0) {
        listSize += name.length + value.length + 32
        if (listSize > maxListSize) listSize = -1
        else out.push(name, value)
      }
    }
    return listSize
  }

  #integer(block: Uint8Array, end: number, prefixBits: number): number {
    const max = (1 << prefixBits) - 1
    let value = block[this.#pos++]! & max
    if (value < max) return value
    let shift = 0
    for (;;) {
      if (this.#pos >= end) throw new HpackError('integer runs past the end of the block')
      const byte = block[this.#pos++]!
      value += (byte & 0x7f) * 2 ** shift
      shift += 7
      // No field, index or size we accept comes near 2^31: a longer integer is an attack.
      if (value > 0x7fffffff) throw new HpackError('integer too large')
      if ((byte & 0x80) === 0) return value
    }
  }

  #string(block: Uint8Array, end: number): string {
    if (this.#pos >= end) throw new HpackError('string runs past the end of the block')
    const huffman = (block[this.#pos]! & 0x80) !== 0
    const length = this.#integer(block, end, 7)
    const start = this.#pos
    if (length > end - start) throw new HpackError('string runs past the end of the block')
    this.#pos = start + length
    if (huffman) return huffmanDecode(block, start, start + length)
    return latin1(block, start, start + length)
  }

  #name(index: number): string {
    if (index <= 61) return STATIC_TABLE[index - 1]![0]
    return this.#names[this.#dynamic(index)]!
  }

  #value(index: number): string {
    if (index <= 61) return STATIC_TABLE[index - 1]![1]
    return this.#values[this.#dynamic(index)]!
  }

  /** Array position of dynamic index `index` (62 = newest). */
  #dynamic(index: number): number {
    this.#referenced = true
    const count = this.#names.length - this.#first
    const fromNewest = index - 62
    if (fromNewest >= count) throw new HpackError(`index ${index} is beyond the table (${61 + count} entries)`)
    return this.#names.length - 1 - fromNewest
  }

  #insert(name: string, value: string): void {
    this.#generation++
    const size = entrySize(name, value)
    this.#evict(size)
    // An entry larger than the table empties it and is not added (RFC 7541 §4.4).
    if (size > this.#capacity) return
    this.#names.push(name)
    this.#values.push(value)
    this.#size += size
  }

  /** Drops the oldest entries until `room` more bytes fit. */
  #evict(room: number): void {
    while (this.#size + room > this.#capacity && this.#first < this.#names.length) {
      this.#size -= entrySize(this.#names[this.#first]!, this.#values[this.#first]!)
      this.#first++
    }
    // Compact now and then, so the arrays do not grow for ever.
    if (this.#first > 64 && this.#first * 2 > this.#names.length) {
      this.#names.splice(0, this.#first)
      this.#values.splice(0, this.#first)
      this.#first = 0
    }
  }
}

function latin1(bytes: Uint8Array, start: number, end: number): string {
  if (Buffer.isBuffer(bytes)) return bytes.toString('latin1', start, end)
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1', start, end)
}

/** Static-table positions: `name\0value` → index of the exact field; `name` → first index with that name. */
const STATIC_FIELD = new Map<string, number>()
const STATIC_NAME = new Map<string, number>()
for (let i = 0; i < STATIC_TABLE.length; i++) {
  const [name, value] = STATIC_TABLE[i]!
  if (value !== '') STATIC_FIELD.set(`${name}\0${value}`, i + 1)
  if (!STATIC_NAME.has(name)) STATIC_NAME.set(name, i + 1)
}

/**
 * Encodes a header list (`[name, value, …]`, names lower case, strings taken as latin1 bytes)
 * into one header block: indexed for exact static matches, else literal without indexing (with
 * the static name index when there is one). No state: the block may be reused on any connection.
 */
export function hpackEncode(fields: readonly string[]): Buffer {
  const parts: number[] = []
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const name = fields[i]!
    const value = fields[i + 1]!
    const exact = STATIC_FIELD.get(`${name}\0${value}`)
    if (exact !== undefined) {
      integer(parts, exact, 7, 0x80)
      continue
    }
    const nameIndex = STATIC_NAME.get(name)
    if (nameIndex !== undefined) integer(parts, nameIndex, 4, 0x00)
    else {
      parts.push(0x00)
      rawString(parts, name)
    }
    rawString(parts, value)
  }
  return Buffer.from(parts)
}

function integer(out: number[], value: number, prefixBits: number, flags: number): void {
  const max = (1 << prefixBits) - 1
  if (value < max) {
    out.push(flags | value)
    return
  }
  out.push(flags | max)
  value -= max
  while (value >= 0x80) {
    out.push((value % 0x80) | 0x80)
    value = Math.floor(value / 0x80)
  }
  out.push(value)
}

function rawString(out: number[], text: string): void {
  integer(out, text.length, 7, 0x00)
  for (let i = 0; i < text.length; i++) out.push(text.charCodeAt(i) & 0xff)
}
