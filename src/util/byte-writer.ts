/**
 * Writes bytes into a buffer that grows as needed: the integers of HdrHistogram's V2 encoding
 * (big-endian; ZigZag LEB128) and unsigned LEB128 varints (exact up to 2^53), for the histogram
 * wire forms (stats/histogram-wire.ts) and binary snapshot messages (cluster/snapshot-codec.ts).
 */
export class ByteWriter {
  #buf: Buffer
  #pos = 0

  constructor(size: number) {
    this.#buf = Buffer.allocUnsafe(size)
  }

  byte(b: number): void {
    this.#ensure(1)
    this.#buf[this.#pos++] = b
  }

  u32(v: number): void {
    this.#ensure(4)
    this.#pos = this.#buf.writeUInt32BE(v >>> 0, this.#pos)
  }

  u64(v: number): void {
    this.#ensure(8)
    this.#pos = this.#buf.writeUInt32BE(Math.floor(v / 2 ** 32), this.#pos)
    this.#pos = this.#buf.writeUInt32BE(v % 2 ** 32, this.#pos)
  }

  f64(v: number): void {
    this.#ensure(8)
    this.#pos = this.#buf.writeDoubleBE(v, this.#pos)
  }

  zigzag(v: number): void {
    let z = v >= 0 ? v * 2 : -v * 2 - 1
    this.#ensure(9)
    for (let i = 0; i < 8; i++) {
      if (z < 128) {
        this.#buf[this.#pos++] = z
        return
      }
      this.#buf[this.#pos++] = (z % 128) | 0x80
      z = Math.floor(z / 128)
    }
    this.#buf[this.#pos++] = z
  }

  /** Unsigned LEB128, exact up to 2^53. */
  varint(v: number): void {
    this.#ensure(8)
    while (v >= 128) {
      this.#buf[this.#pos++] = (v % 128) | 0x80
      v = Math.floor(v / 128)
    }
    this.#buf[this.#pos++] = v
  }

  raw(bytes: Uint8Array): void {
    this.#ensure(bytes.length)
    this.#buf.set(bytes, this.#pos)
    this.#pos += bytes.length
  }

  /** What was written (a view of the writer's buffer). */
  bytes(): Buffer {
    return this.#buf.subarray(0, this.#pos)
  }

  #ensure(n: number): void {
    if (this.#pos + n <= this.#buf.length) return
    const bigger = Buffer.allocUnsafe(Math.max(this.#buf.length * 2, this.#pos + n))
    this.#buf.copy(bigger, 0, 0, this.#pos)
    this.#buf = bigger
  }
}
