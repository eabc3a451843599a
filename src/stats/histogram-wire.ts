/**
 * HDR histograms on the wire: HdrHistogram's V2 encoding, uncompressed, in base64. Merging one
 * into a running total reads its counts straight into the total's buckets.
 *
 * Why not the usual compressed form: a snapshot carries two or three small histograms per URL
 * name. Deflate saved ~20% of their bytes but inflating each took ~18 µs and building a
 * histogram to add from took more: a runner merging 100 agents × 50 URL names every second
 * spent most of a core there (bench/cluster-merge.mjs). Compressed histograms — saved results,
 * anything from HdrHistogram tools — are still read.
 */
import { inflateSync } from 'node:zlib'
import type { JsHistogram } from 'hdr-histogram-js'
import { ByteWriter } from '../util/byte-writer.js'

/** V2 cookies; `| 0x10` marks the LEB128/ZigZag word size, as HdrHistogram writes them. */
const V2_COOKIE_BASE = 0x1c849303
const V2_COMPRESSED_COOKIE_BASE = 0x1c849304
const V2_HEADER_BYTES = 40
const cookieBase = (cookie: number): number => (cookie & ~0xf0) >>> 0

/** The layout every Loads histogram has (`createHistogram`): counts indexes mean the same values. */
const SIGNIFICANT_DIGITS = 3
const LOWEST_DISCERNIBLE = 1

/** Encodes `h` as uncompressed V2 base64. */
export function encodeRaw(h: JsHistogram): string {
  const last = h.totalCount === 0 ? 0 : h.countsArrayIndex(h.maxValue)
  const out = new ByteWriter(V2_HEADER_BYTES + 16 + Math.min(last + 1, 4096))
  out.u32((V2_COOKIE_BASE | 0x10) >>> 0)
  out.u32(0) // payload length, set below
  out.u32(0) // normalizing index offset
  out.u32(h.numberOfSignificantValueDigits)
  out.u64(h.lowestDiscernibleValue)
  out.u64(h.highestTrackableValue)
  out.f64(1) // integer to double conversion ratio
  for (let i = 0; i <= last; ) {
    const count = h.getCountAtIndex(i++)
    if (count !== 0) {
      out.zigzag(count)
      continue
    }
    let zeros = 1
    while (i <= last && h.getCountAtIndex(i) === 0) {
      zeros++
      i++
    }
    out.zigzag(zeros > 1 ? -zeros : 0)
  }
  // The payload length, now known.
  const bytes = out.bytes()
  bytes.writeUInt32BE(bytes.length - V2_HEADER_BYTES, 4)
  return bytes.toString('base64')
}

/**
 * Adds an encoded histogram (V2, compressed or not) to `target`, bucket by bucket. Returns false,
 * changing nothing, when the encoding has another layout: the caller then decodes it the slow way.
 * The result is what decoding and `target.add()` would give: the same counts, total, min and max.
 */
export function addRawInto(target: JsHistogram, encoded: string): boolean {
  // Decoded into a reused buffer: no allocation per histogram on the merge's hot path.
  if (encoded.length > wire.length * 1.33) wire = Buffer.allocUnsafe(Math.ceil(encoded.length * 0.75) + 16)
  let buf = wire.subarray(0, wire.write(encoded, 'base64'))
  if (buf.length < 8) return false
  if (cookieBase(buf.readUInt32BE(0)) === V2_COMPRESSED_COOKIE_BASE) {
    buf = inflateSync(buf.subarray(8, 8 + buf.readUInt32BE(4)))
  }
  if (buf.length < V2_HEADER_BYTES || cookieBase(buf.readUInt32BE(0)) !== V2_COOKIE_BASE) return false
  if (buf.readUInt32BE(12) !== SIGNIFICANT_DIGITS || buf.readUInt32BE(16) !== 0 || buf.readUInt32BE(20) !== LOWEST_DISCERNIBLE) return false
  const end = Math.min(buf.length, V2_HEADER_BYTES + buf.readUInt32BE(4))

  // One pass: each count straight into its bucket; the target grows when an index needs it.
  let pos = V2_HEADER_BYTES
  let index = 0
  let minIndex = -1
  let maxIndex = -1
  let total = 0
  // Grow once to the source's range (its highest trackable value), not bucket by bucket.
  const highest = buf.readUInt32BE(24) * 2 ** 32 + buf.readUInt32BE(28)
  if (highest > 0 && target.countsArrayIndex(highest) >= target.countsArrayLength) target.resize(highest)
  let length = target.countsArrayLength
  while (pos < end) {
    // ZigZag LEB128, up to 9 bytes (exact up to 2^53), inline: this loop is the merge's hot path.
    let b = buf[pos++]!
    let word = b & 0x7f
    let scale = 128
    for (let i = 1; b & 0x80 && i < 9; i++) {
      b = buf[pos++]!
      word += (i === 8 ? b : b & 0x7f) * scale
      scale *= 128
    }
    if (word % 2 === 1) {
      index += (word + 1) / 2
      continue
    }
    const count = word / 2
    if (count > 0) {
      if (index >= length) {
        target.resize(lowestValueAt(index + 1) - 1)
        length = target.countsArrayLength
      }
      target.addToCountAtIndex(index, count)
      total += count
      if (minIndex < 0 && index > 0) minIndex = index
      maxIndex = index
    }
    index++
  }
  if (maxIndex < 0) return true
  target.addToTotalCount(total)
  // Min and max move as `add()` would move them (a count of 0 moves nothing else), when they do.
  const maxValue = lowestValueAt(maxIndex + 1) - 1
  if (maxValue > target.maxValue) target.recordValueWithCount(maxValue, 0)
  if (minIndex > 0) {
    const minValue = lowestValueAt(minIndex)
    if (minValue < target.minNonZeroValue) target.recordValueWithCount(minValue, 0)
  }
  return true
}

/**
 * The lowest value counted at `index` in the layout above (3 significant digits, unit 1: 2048
 * sub-buckets, 1024 more per power of two), so that `lowestValueAt(i + 1) - 1` is the highest.
 */
function lowestValueAt(index: number): number {
  if (index < 2048) return index
  const bucket = (index >> 10) - 1
  return ((index & 1023) + 1024) * 2 ** bucket
}

/** The bytes of the histogram being added; reused, grown as needed. */
let wire = Buffer.allocUnsafe(64 * 1024)

/**
 * The compact wire form of a snapshot's histograms (what an agent sends, see snapshot-merge.ts):
 * `!` then base64 of: a version byte (1), LEB128 of the highest index with a count, then LEB128
 * tokens over the buckets with a count, ascending. A token's low two bits say what it is, the
 * rest (`n`) how much: 0 — the next bucket holds n + 1; 1 — skip n + 1 empty buckets, the one
 * after holds 1; 2 — skip n + 1 empty buckets (a count token follows). So one byte per bucket
 * for a sparse histogram of small counts (one-second deltas), and never more than V2's bytes
 * below ~4000 a bucket; counts are exact up to 2^51. Same layout as above (3 significant
 * digits, unit 1): the same buckets, exactly, added straight into the target's counts.
 * `!` is outside base64's alphabet: no V2 histogram starts with it.
 */
export const COMPACT_MARK = '!'
const COMPACT_VERSION = 1

/** Encodes `h` (the layout `createHistogram` builds) in the compact form; '' when empty. */
export function encodeCompact(h: JsHistogram): string {
  if (h.totalCount === 0) return ''
  const last = h.countsArrayIndex(h.maxValue)
  const out = new ByteWriter(16 + Math.min(last + 1, 4096))
  out.varint(COMPACT_VERSION)
  out.varint(last)
  let prev = -1
  for (let i = 0; i <= last; i++) {
    const count = h.getCountAtIndex(i)
    if (count === 0) continue
    const gap = i - prev - 1
    prev = i
    if (gap === 0) {
      out.varint((count - 1) * 4)
    } else if (count === 1) {
      out.varint((gap - 1) * 4 + 1)
    } else {
      out.varint((gap - 1) * 4 + 2)
      out.varint((count - 1) * 4)
    }
  }
  return COMPACT_MARK + out.bytes().toString('base64')
}

/**
 * Adds a compact histogram to `target`: the counts, total, min and max that decoding it and
 * `target.add()` would give (as `addRawInto`). Returns false, changing nothing, if it is not one.
 */
export function addCompactInto(target: JsHistogram, encoded: string): boolean {
  if (encoded.charCodeAt(0) !== 0x21) return false
  const need = Math.ceil((encoded.length - 1) * 0.75) + 4
  if (need > wire.length) wire = Buffer.allocUnsafe(need * 2)
  const end = wire.write(encoded.slice(1), 'base64')
  return addCompactBytes(target, wire, 0, end)
}

/**
 * `addCompactInto` for the compact form's bytes (no `!`, no base64): `buf[start, end)`, as a
 * binary snapshot message carries them (cluster/snapshot-codec.ts).
 */
export function addCompactBytes(target: JsHistogram, buf: Uint8Array, start: number, end: number): boolean {
  if (end - start < 2 || buf[start] !== COMPACT_VERSION) return false
  let pos = start + 1
  // LEB128, inline (this is the runner's hot path): one byte is the common case.
  let b = buf[pos++]!
  let last = b & 0x7f
  for (let scale = 128; b & 0x80; scale *= 128) last += ((b = buf[pos++]!) & 0x7f) * scale
  if (last >= target.countsArrayLength) target.resize(lowestValueAt(last + 1) - 1)
  // Wide histograms (Float64Array counts) are added to in place; others through their method.
  const raw = (target as unknown as { _counts?: unknown })._counts
  const counts = raw instanceof Float64Array && raw.length > last ? raw : null
  let index = -1
  let total = 0
  let minIndex = -1
  while (pos < end) {
    b = buf[pos++]!
    let token = b & 0x7f
    for (let scale = 128; b & 0x80; scale *= 128) token += ((b = buf[pos++]!) & 0x7f) * scale
    const kind = token % 4
    const n = (token - kind) / 4
    let count: number
    if (kind === 0) {
      index++
      count = n + 1
    } else if (kind === 1) {
      index += n + 2
      count = 1
    } else {
      index += n + 1
      continue
    }
    if (index > last) break // corrupt (never from encodeCompact): the rest is ignored
    if (counts !== null) counts[index]! += count
    else target.addToCountAtIndex(index, count)
    total += count
    if (minIndex < 0 && index > 0) minIndex = index
  }
  if (total === 0) return true
  target.addToTotalCount(total)
  const maxValue = lowestValueAt(Math.min(index, last) + 1) - 1
  if (maxValue > target.maxValue) target.recordValueWithCount(maxValue, 0)
  if (minIndex > 0) {
    const minValue = lowestValueAt(minIndex)
    if (minValue < target.minNonZeroValue) target.recordValueWithCount(minValue, 0)
  }
  return true
}
