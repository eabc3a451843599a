/**
 * The test travels inside the run request when it fits the broker's message size (max_payload,
 * 1 MB by default; loads-cluster sets 8 MB); a larger bundle is fetched by each agent from the
 * runner in chunks that do.
 */
import { createHash } from 'node:crypto'
import type { NatsConnection, Subscription } from '@nats-io/transport-node'
import type { TestBundle } from '../case/bundle.js'
import { decode, encode, subjects, type BundleChunkRequest, type BundleRef } from './protocol.js'

/** Room left in a run request for everything but the code (plan, config, JSON escapes). */
const REQUEST_MARGIN = 64 * 1024
/** Room left in a chunk reply for the protocol's headers. */
const CHUNK_MARGIN = 4 * 1024
const CHUNK_TIMEOUT_MS = 10_000

export function maxPayload(nc: NatsConnection): number {
  return nc.info?.max_payload ?? 1024 * 1024
}

function chunkSize(nc: NatsConnection): number {
  return Math.max(16 * 1024, maxPayload(nc) - CHUNK_MARGIN)
}

/** The bundle's reference for a run request: the code inline if it fits, else a chunk count. */
export function bundleRef(nc: NatsConnection, bundle: TestBundle): BundleRef {
  const size = Buffer.byteLength(bundle.code)
  const escaped = Buffer.byteLength(JSON.stringify(bundle.code))
  if (escaped <= maxPayload(nc) - REQUEST_MARGIN) return { hash: bundle.hash, size, entry: bundle.entry, code: bundle.code, chunks: 0 }
  return { hash: bundle.hash, size, entry: bundle.entry, chunks: Math.ceil(size / chunkSize(nc)) }
}

/** Answers agents' chunk requests for this run's bundle until unsubscribed. */
export function serveBundle(nc: NatsConnection, runId: string, bundle: TestBundle): Subscription {
  const bytes = Buffer.from(bundle.code)
  const size = chunkSize(nc)
  return nc.subscribe(subjects.bundle(runId), {
    callback: (err, msg) => {
      if (err) return
      const req = decode<BundleChunkRequest>(msg.data)
      if (!req || req.type !== 'bundle.chunk' || !Number.isInteger(req.index) || req.index < 0) return
      msg.respond(bytes.subarray(req.index * size, (req.index + 1) * size))
    },
  })
}

/** The code of a bundle: inline, or fetched chunk by chunk; checked against its hash. */
export async function receiveBundle(nc: NatsConnection, runId: string, agentId: string, ref: BundleRef): Promise<string> {
  let code = ref.code
  if (code === undefined) {
    const parts: Uint8Array[] = []
    for (let index = 0; index < ref.chunks; index++) {
      const request: BundleChunkRequest = { type: 'bundle.chunk', runId, agentId, index }
      const reply = await nc.request(subjects.bundle(runId), encode(request), { timeout: CHUNK_TIMEOUT_MS })
      parts.push(reply.data)
    }
    code = Buffer.concat(parts).toString('utf8')
  }
  const hash = createHash('sha256').update(code).digest('hex').slice(0, 16)
  if (hash !== ref.hash || Buffer.byteLength(code) !== ref.size) {
    throw new Error(`the test bundle arrived damaged (sha256 ${hash}, expected ${ref.hash})`)
  }
  return code
}
