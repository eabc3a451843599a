/**
 * Loads makes a unary gRPC call on the client's channel (GrpcClient's UnaryCall), not through
 * grpc-js's Client.makeUnaryRequest, which costs ~15% more CPU per call. This holds the two to
 * the same results on the same wire: for each answer a server can give — well-formed or not — a
 * call through Loads and one through grpc-js's own Client end alike (the response, or the status
 * code, details and trailing metadata), the server receives the same request (path, headers,
 * body), and Loads records one hit whose status is that code. Named cases first, then seeded
 * random answers (a failing seed prints its case).
 */
import { Client, credentials, Metadata, type ServiceError } from '@grpc/grpc-js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { GrpcClient } from '../../src/grpc/grpc-client.js'
import { GrpcError } from '../../src/grpc/grpc-error.js'
import { findMethod, loadProtos, servicesOf } from '../../src/grpc/grpc-proto.js'
import { GrpcSink, PROTO_DIR } from '../helpers/grpc-server.js'
import { startWireServer, type WireAnswer, type WireRequest, type WireServer } from '../helpers/grpc-wire-server.js'
import { rng } from '../helpers/rng.js'

const PATH = '/shop.Shop/GetItem'
/** GetItem as Loads loads it: both clients use the same (de)serializers (what is compared is the call, not the .proto). */
const getItem = findMethod(servicesOf(loadProtos(PROTO_DIR, ['shop.proto'], [])), undefined, 'GetItem')
const item = (id: number, name: string): Buffer => getItem.responseSerialize({ id, name })

/** How a call ended, in words both clients can be held to. */
type Outcome = { response: unknown } | { code: number; details: string; metadata: Record<string, string> }

/** grpc-js words a deadline with the time it took (and the load balancer's pick, when it took a millisecond): not compared. */
const timeless = (details: string): string => details.replace(/^Deadline exceeded after .*/s, 'Deadline exceeded after …')

function flat(metadata: Metadata): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(metadata.getMap())) out[k] = Buffer.isBuffer(v) ? v.toString('base64') : String(v)
  return out
}

/** The headers a call chooses (grpc-timeout's value depends on when the call left: only its unit is kept). */
function shown(r: WireRequest): WireRequest {
  const headers = { ...r.headers }
  if (headers['grpc-timeout'] !== undefined) headers['grpc-timeout'] = headers['grpc-timeout'].replace(/^\d+/, 'N')
  return { ...r, headers }
}

/** Named answers: what each shape of a response makes of a unary call. */
const NAMED: Record<string, WireAnswer> = {
  'one message, OK': { shape: 'normal', messages: [{ bytes: item(7, 'item-7') }] },
  'OK with no message': { shape: 'normal', messages: [] },
  'two messages': { shape: 'normal', messages: [{ bytes: item(1, 'a') }, { bytes: item(2, 'b') }] },
  // Field 1 as a varint whose last byte never comes.
  'a message that does not parse': { shape: 'normal', messages: [{ bytes: Buffer.from([0x08, 0xff]) }] },
  'NOT_FOUND with details and trailing metadata': { shape: 'normal', messages: [], code: 5, details: 'no item 7 — 100% gone', trailers: { 'x-reason': 'sold out', 'x-trace-bin': Buffer.from([0, 1, 2, 255]).toString('base64') } },
  'a message, then an error status': { shape: 'normal', messages: [{ bytes: item(7, 'item-7') }], code: 8, details: 'quota' },
  'trailers only': { shape: 'trailers-only', code: 7, details: 'not yours' },
  'HTTP 503, no gRPC status': { shape: 'http', httpStatus: 503 },
  'HTTP 404, no gRPC status': { shape: 'http', httpStatus: 404 },
  'a gzip-compressed message': { shape: 'normal', messages: [{ bytes: item(9, 'zipped'), gzip: true }] },
  'reset after the headers': { shape: 'reset', resetCode: 2 },
  'reset after a message': { shape: 'reset', messages: [{ bytes: item(3, 'c') }], resetCode: 8 },
  'no answer before the deadline': { shape: 'silent' },
}

/** A random answer: a few messages (valid, compressed, or random bytes), any status, details in any script, trailers. */
function randomAnswer(next: () => number): WireAnswer {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!
  const shape = pick(['normal', 'normal', 'normal', 'trailers-only', 'http', 'reset'] as const)
  const messages = Array.from({ length: pick([0, 1, 1, 1, 1, 2]) }, () => {
    const kind = next()
    if (kind < 0.6) return { bytes: item(Math.floor(next() * 1e6) - 5e5, pick(['', 'x', 'item', 'é🙂'])), gzip: next() < 0.3 }
    return { bytes: Buffer.from(Array.from({ length: Math.floor(next() * 8) }, () => Math.floor(next() * 256))) }
  })
  const trailers: Record<string, string> = {}
  for (let i = 0; i < pick([0, 1, 2]); i++) trailers[`x-k${i}`] = pick(['v', 'a b', '1'])
  if (next() < 0.2) trailers['x-blob-bin'] = Buffer.from([Math.floor(next() * 256), 0]).toString('base64')
  return {
    shape,
    httpStatus: pick([400, 401, 403, 404, 429, 500, 502, 503, 504]),
    messages,
    code: next() < 0.5 ? 0 : 1 + Math.floor(next() * 16),
    details: pick([undefined, '', 'plain', 'per cent % and\nline', 'ünï cödé ✓']),
    trailers,
    resetCode: pick([0, 2, 7, 8, 11]),
  }
}

describe('a unary call on the channel (Loads) against grpc-js Client.makeUnaryRequest, on the same answers', () => {
  const answers: WireAnswer[] = []
  const labels: string[] = []
  let server: WireServer
  let loads: GrpcClient
  let oracle: Client
  const sink = new GrpcSink()
  beforeAll(async () => {
    server = await startWireServer((r) => answers[Number(r.headers['x-case'])]!)
    loads = new GrpcClient(`127.0.0.1:${server.port}`, { proto: 'shop.proto' }, { sink, tls: {}, timeoutMs: 5000, protoRoot: PROTO_DIR })
    oracle = new Client(`127.0.0.1:${server.port}`, credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 })
  })
  afterAll(async () => {
    loads.close()
    oracle.close()
    await server.close()
  })

  async function viaLoads(index: number, request: unknown, deadlineMs: number): Promise<Outcome> {
    try {
      return { response: await loads.unary('GetItem', request, { metadata: { 'x-case': String(index), 'x-client': 'loads' }, deadlineMs }) }
    } catch (err) {
      expect(err).toBeInstanceOf(GrpcError)
      const e = err as GrpcError
      return { code: e.status, details: timeless(e.details), metadata: e.metadata }
    }
  }

  function viaGrpcJs(index: number, request: unknown, deadlineMs: number): Promise<Outcome> {
    const metadata = new Metadata()
    metadata.set('x-case', String(index))
    metadata.set('x-client', 'grpc-js')
    return new Promise((resolve) => {
      oracle.makeUnaryRequest(PATH, getItem.requestSerialize, getItem.responseDeserialize, request, metadata, { deadline: Date.now() + deadlineMs }, (err: ServiceError | null, response?: unknown) => {
        resolve(err === null ? { response } : { code: err.code, details: timeless(err.details), metadata: flat(err.metadata) })
      })
    })
  }

  /** Both clients make the call of `answer`; returns Loads' outcome after holding it to grpc-js's. */
  async function both(answer: WireAnswer, request: unknown = { id: 7 }, label = '', deadlineMs = answer.shape === 'silent' ? 300 : 5000): Promise<Outcome> {
    answers.push(answer)
    const index = answers.length - 1
    labels[index] = label
    const hits = sink.hits.length
    const ours = await viaLoads(index, request, deadlineMs)
    const theirs = await viaGrpcJs(index, request, deadlineMs)
    expect({ label, ...ours }).toEqual({ label, ...theirs })
    // One hit, its status the call's code.
    expect(sink.hits.slice(hits).map((h) => [h.method, h.name, h.status])).toEqual([['GRPC', PATH, 'code' in ours ? ours.code : 0]])
    return ours
  }

  /**
   * The requests of each call (by its x-case), Loads' and grpc-js's, once the wire is quiet: a
   * cancelled call's stream may reach the server after the call has ended. Each case's requests
   * from both clients must be the same (two when grpc-js retried a refused stream transparently).
   */
  async function requestsByCase(from: number): Promise<Map<number, WireRequest[]>> {
    for (let count = -1; count !== server.requests.length; ) {
      count = server.requests.length
      await server.idle()
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    const by = new Map<number, { loads: WireRequest[]; 'grpc-js': WireRequest[] }>()
    for (const r of server.requests) {
      const index = Number(r.headers['x-case'])
      if (index < from) continue
      const { 'x-client': client, ...headers } = r.headers
      let entry = by.get(index)
      if (entry === undefined) by.set(index, (entry = { loads: [], 'grpc-js': [] }))
      entry[client as 'loads' | 'grpc-js'].push(shown({ ...r, headers }))
    }
    const out = new Map<number, WireRequest[]>()
    for (const [index, { loads: ours, 'grpc-js': theirs }] of by) {
      expect({ label: labels[index], requests: ours }).toEqual({ label: labels[index], requests: theirs })
      out.set(index, ours)
    }
    return out
  }

  it('named answers: OK, no message, two messages, unparseable, error statuses, trailers-only, HTTP errors, gzip, resets, a deadline', async () => {
    const from = answers.length
    const outcomes: Record<string, unknown> = {}
    for (const [name, answer] of Object.entries(NAMED)) {
      // grpc-js reads one message of a unary call: a second one is never read, nor the status after it.
      const o = await both(answer, { id: 7 }, name, name === 'two messages' || answer.shape === 'silent' ? 300 : 5000)
      outcomes[name] = 'code' in o ? [o.code, o.details.replace(/:.*/s, ':…')] : o.response
    }
    // What grpc-js makes of each (and Loads with it), pinned: a change of either shows here.
    expect(outcomes).toEqual({
      'one message, OK': { id: 7, name: 'item-7', price: null },
      'OK with no message': [12, 'No message received'],
      'two messages': [4, 'Deadline exceeded after …'],
      'a message that does not parse': [13, 'Response message parsing error:…'],
      'NOT_FOUND with details and trailing metadata': [5, 'no item 7 — 100% gone'],
      'a message, then an error status': [8, 'quota'],
      'trailers only': [7, 'not yours'],
      'HTTP 503, no gRPC status': [14, 'Received HTTP status code 503'],
      'HTTP 404, no gRPC status': [12, 'Received HTTP status code 404'],
      'a gzip-compressed message': { id: 9, name: 'zipped', price: null },
      'reset after the headers': [13, 'Received RST_STREAM with code 2 (Internal server error)'],
      'reset after a message': [1, 'Call cancelled'],
      'no answer before the deadline': [4, 'Deadline exceeded after …'],
    })
    // Every call reached the server once, with its message (7 = id 7, as a varint field).
    const requests = await requestsByCase(from)
    expect([...requests.values()].map((rs) => rs.map((r) => [r.body.toString('hex'), r.ended]))).toEqual(Object.keys(NAMED).map(() => [['00000000020807', true]]))
  })

  it('a request that does not serialize ends INTERNAL on both; no message reaches the server', async () => {
    const from = answers.length
    const o = await both(NAMED['one message, OK']!, null, 'null request')
    expect(o).toMatchObject({ code: 13 })
    expect((o as { details: string }).details).toMatch(/^Request message serialization failure: /)
    const requests = await requestsByCase(from)
    expect([...requests.values()].flat().every((r) => r.body.length === 0)).toBe(true)
  })

  it('seeded random answers (200 calls)', async () => {
    const from = answers.length
    for (let seed = 1; seed <= 100; seed++) {
      const answer = randomAnswer(rng(seed))
      await both(answer, { id: seed }, `seed ${seed}: ${JSON.stringify(answer, (k, v: unknown) => (k === 'bytes' ? (v as { data: number[] }).data : v))}`, 1000)
    }
    const requests = await requestsByCase(from)
    expect(requests.size).toBe(100)
  }, 60_000)
})
