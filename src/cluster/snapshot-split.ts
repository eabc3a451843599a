/**
 * An agent's snapshot in messages the broker takes. One message nearly always; but a second with
 * thousands of URL names can outgrow the broker's max_payload (21.5 kB for 50 names: 1 MB holds
 * some 2,400), and a message the broker refuses is refused for ever: it held the agent's outbox
 * for two minutes, then went with everything queued behind it — the run's hits and the agent's
 * `finished` event. Split, the endpoints spread over several snapshots of the same source, each
 * under a seq of its own, so the runner merges them as any others: counters add, nothing twice.
 */
import type { Snapshot } from '../stats/types.js'

/**
 * `snapshot` as it is when `fits`, else in parts that each fit (as far as splitting endpoints
 * can: a single endpoint too big alone is left to fail). The first part keeps the seq and every
 * figure that is not an endpoint's; the others take seqs from `nextSeq` and carry endpoints only;
 * the last part is `final` (when the snapshot was) and carries the generator's sample, which
 * closes its warnings on the final one.
 */
export function splitToFit(snapshot: Snapshot, fits: (s: Snapshot) => boolean, nextSeq: () => number): Snapshot[] {
  if (snapshot.endpoints.length < 2 || fits(snapshot)) return [snapshot]
  const half = Math.ceil(snapshot.endpoints.length / 2)
  const { generator, ...rest } = snapshot
  const head: Snapshot = { ...rest, endpoints: snapshot.endpoints.slice(0, half), final: false }
  const first = splitToFit(head, fits, nextSeq)
  const tail: Snapshot = {
    v: snapshot.v,
    source: snapshot.source,
    seq: nextSeq(),
    startMs: snapshot.startMs,
    endMs: snapshot.endMs,
    step: snapshot.step,
    activeUsers: snapshot.activeUsers,
    tests: { run: 0, failures: 0, errors: 0 },
    endpoints: snapshot.endpoints.slice(half),
    latency: '',
    errors: [],
    counters: {},
    ...(snapshot.oldestInFlightMs !== undefined ? { oldestInFlightMs: snapshot.oldestInFlightMs } : {}),
    ...(generator !== undefined ? { generator } : {}),
    final: snapshot.final,
  }
  return [...first, ...splitToFit(tail, fits, nextSeq)]
}
