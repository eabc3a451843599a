/**
 * The binary form of an agent's snapshot message, the one message a runner receives by the
 * hundred every second. Its bulk is histograms: they travel as raw bytes (no base64: a third
 * fewer bytes, nothing to decode) that the runner adds to its totals straight from the message;
 * the rest stays JSON (V8's JSON.parse beats any hand-written reader at building the objects),
 * with each endpoint as an array: no keys to parse (half the time of objects, half the bytes).
 *
 *   "LS" 0x06                          magic and version (JSON starts with `{`: never mistaken);
 *                                      another version is refused (decodes to undefined)
 *   varint n, n bytes                  UTF-8 JSON: the message, its histograms left out and each
 *                                      endpoint as [method, name, hits, errors, bytesIn, bytesOut,
 *                                      connects, connectUs, statuses, errorKinds(, ws or null
 *                                      (, httpFailed or null(, scenario or null(, tlsHandshakes, tlsUs))))]
 *                                      and each group and method (TimedSnapshot) without its duration,
 *                                      each scenario without its duration and latency
 *   the histograms, in this order: the snapshot's latency and service, then each endpoint's
 *   latency, ttfb and service, then each group's duration, then each method's, then each
 *   scenario's duration and latency. Each: a tag, 0 empty; 1 compact form (histogram-wire.ts): varint
 *   length + bytes; 2 another encoding: varint length + its UTF-8 string; 3 absent.
 *
 * varint: unsigned LEB128. Decoded, compact histograms are views into one copy of the message,
 * which `addEncoded` reads as they are.
 */
import type { EndpointSnapshot, ScenarioSnapshot, Snapshot, TimedSnapshot, WireHistogram, WsCounts } from '../stats/types.js'
import { COMPACT_MARK } from '../stats/histogram-wire.js'
import type { SnapshotMessage } from './protocol.js'
import { ByteWriter } from '../util/byte-writer.js'

const MAGIC_0 = 0x4c // L
const MAGIC_1 = 0x53 // S
/**
 * 5: an endpoint may carry its scenario (row[12]); a 4 decoder would have merged scenarios away.
 * 6: and its TLS handshakes (row[13], row[14]); a 5 decoder would have read them as none.
 */
const VERSION = 6

const HIST_EMPTY = 0
const HIST_COMPACT = 1
const HIST_STRING = 2
const HIST_ABSENT = 3

/** Whether `data` is a binary snapshot message (and not JSON). */
export function isBinarySnapshot(data: Uint8Array): boolean {
  return data.length >= 3 && data[0] === MAGIC_0 && data[1] === MAGIC_1
}

export function encodeSnapshotMessage(message: SnapshotMessage): Uint8Array {
  const { endpoints, latency, service, groups, methods, scenarios, ...rest } = message.snapshot
  const timedHead = (list: TimedSnapshot[]): Omit<TimedSnapshot, 'duration'>[] => list.map(({ duration: _d, ...t }) => t)
  const head = {
    ...message,
    snapshot: {
      ...rest,
      endpoints: endpoints.map(endpointRow),
      ...(groups !== undefined ? { groups: timedHead(groups) } : {}),
      ...(methods !== undefined ? { methods: timedHead(methods) } : {}),
      ...(scenarios !== undefined ? { scenarios: scenarios.map(({ duration: _d, latency: _l, ...sc }) => sc) } : {}),
    },
  }
  const w = new Writer(8192 + endpoints.length * 512)
  w.byte(MAGIC_0)
  w.byte(MAGIC_1)
  w.byte(VERSION)
  w.string(JSON.stringify(head))
  w.histogram(latency)
  w.histogram(service)
  for (const e of endpoints) {
    w.histogram(e.latency)
    w.histogram(e.ttfb)
    w.histogram(e.service)
  }
  for (const g of groups ?? []) w.histogram(g.duration)
  for (const m of methods ?? []) w.histogram(m.duration)
  for (const sc of scenarios ?? []) {
    w.histogram(sc.duration)
    w.histogram(sc.latency)
  }
  return w.bytes()
}

/** The message, or undefined when `data` is not a well-formed binary snapshot message. */
export function decodeSnapshotMessage(data: Uint8Array): SnapshotMessage | undefined {
  if (!isBinarySnapshot(data) || data[2] !== VERSION) return undefined
  try {
    // One copy (a plain Uint8Array: its views are cheap): the histograms below are views into
    // it, and the transport may reuse `data`.
    const r = new Reader(new Uint8Array(data), 3)
    const message = JSON.parse(r.string()) as SnapshotMessage
    const snapshot = message.snapshot as Snapshot | undefined
    if (message.type !== 'run.snapshot' || typeof snapshot !== 'object' || snapshot === null || !Array.isArray(snapshot.endpoints)) return undefined
    snapshot.latency = r.histogram() ?? ''
    const service = r.histogram()
    if (service !== undefined) snapshot.service = service
    const rows = snapshot.endpoints as unknown as EndpointRow[]
    const endpoints = new Array<EndpointSnapshot>(rows.length)
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]!
      if (!Array.isArray(row) || row.length < 10) return undefined
      const e: EndpointSnapshot = {
        method: row[0], name: row[1], hits: row[2], errors: row[3], bytesIn: row[4], bytesOut: row[5],
        statuses: row[8], errorKinds: row[9], latency: r.histogram() ?? '', ttfb: r.histogram() ?? '',
        connects: row[6], connectUs: row[7],
      }
      const endpointService = r.histogram()
      if (endpointService !== undefined) e.service = endpointService
      if (row[10] !== undefined && row[10] !== null) e.ws = row[10]
      if (row[11] !== undefined && row[11] !== null) e.httpFailed = row[11]
      if (typeof row[12] === 'string') e.scenario = row[12]
      if (typeof row[13] === 'number') {
        e.tlsHandshakes = row[13]
        e.tlsUs = row[14] ?? 0
      }
      endpoints[i] = e
    }
    snapshot.endpoints = endpoints
    for (const list of [snapshot.groups, snapshot.methods]) {
      if (list === undefined) continue
      if (!Array.isArray(list)) return undefined
      for (const t of list) t.duration = r.histogram() ?? ''
    }
    if (snapshot.scenarios !== undefined) {
      if (!Array.isArray(snapshot.scenarios)) return undefined
      for (const sc of snapshot.scenarios as ScenarioSnapshot[]) {
        sc.duration = r.histogram() ?? ''
        sc.latency = r.histogram() ?? ''
      }
    }
    return r.atEnd() ? message : undefined
  } catch {
    return undefined
  }
}

/** An endpoint in the JSON head: its fields in this order, without their histograms. */
type EndpointRow = [
  method: string, name: string, hits: number, errors: number, bytesIn: number, bytesOut: number,
  connects: number, connectUs: number, statuses: Record<string, number>, errorKinds: Record<string, number>,
  ws?: WsCounts | null,
  httpFailed?: number | null,
  scenario?: string | null,
  tlsHandshakes?: number,
  tlsUs?: number,
]

function endpointRow(e: EndpointSnapshot): EndpointRow {
  const row: EndpointRow = [e.method, e.name, e.hits, e.errors, e.bytesIn, e.bytesOut, e.connects, e.connectUs, e.statuses, e.errorKinds]
  const tls = e.tlsHandshakes !== undefined
  if (e.ws !== undefined || e.httpFailed !== undefined || e.scenario !== undefined || tls) row.push(e.ws ?? null)
  if (e.httpFailed !== undefined || e.scenario !== undefined || tls) row.push(e.httpFailed ?? null)
  if (e.scenario !== undefined || tls) row.push(e.scenario ?? null)
  if (tls) row.push(e.tlsHandshakes!, e.tlsUs ?? 0)
  return row
}

const utf8 = new TextEncoder()
const fromUtf8 = new TextDecoder()

/** Writes a snapshot message's parts (see the layout above). */
class Writer extends ByteWriter {
  string(s: string): void {
    const bytes = utf8.encode(s)
    this.varint(bytes.length)
    this.raw(bytes)
  }

  histogram(h: WireHistogram | undefined): void {
    if (h === undefined) return this.byte(HIST_ABSENT)
    if (h instanceof Uint8Array) {
      this.byte(HIST_COMPACT)
      this.varint(h.length)
      return this.raw(h)
    }
    if (h === '') return this.byte(HIST_EMPTY)
    if (h.charCodeAt(0) === COMPACT_MARK.charCodeAt(0)) {
      const bytes = Buffer.from(h.slice(1), 'base64')
      this.byte(HIST_COMPACT)
      this.varint(bytes.length)
      return this.raw(bytes)
    }
    this.byte(HIST_STRING)
    this.string(h)
  }
}

class Reader {
  constructor(
    private readonly buf: Uint8Array,
    private pos: number,
  ) {}

  atEnd(): boolean {
    return this.pos === this.buf.length
  }

  varint(): number {
    let b = this.#byte()
    let v = b & 0x7f
    for (let scale = 128; b & 0x80; scale *= 128) {
      if (scale > 2 ** 49) throw new Error('varint too long')
      b = this.#byte()
      v += (b & 0x7f) * scale
    }
    return v
  }

  string(): string {
    const end = this.#span(this.varint())
    const s = fromUtf8.decode(this.buf.subarray(this.pos, end))
    this.pos = end
    return s
  }

  /** undefined when absent. */
  histogram(): WireHistogram | undefined {
    switch (this.#byte()) {
      case HIST_EMPTY:
        return ''
      case HIST_COMPACT: {
        const end = this.#span(this.varint())
        const view = this.buf.subarray(this.pos, end)
        this.pos = end
        return view
      }
      case HIST_STRING:
        return this.string()
      case HIST_ABSENT:
        return undefined
      default:
        throw new Error('bad histogram tag')
    }
  }

  #span(length: number): number {
    const end = this.pos + length
    if (end > this.buf.length) throw new Error('truncated')
    return end
  }

  #byte(): number {
    if (this.pos >= this.buf.length) throw new Error('truncated')
    return this.buf[this.pos++]!
  }
}
