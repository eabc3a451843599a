/**
 * An agent's snapshot in messages the broker takes. One message nearly always; but a second with
 * thousands of URL names can outgrow the broker's max_payload (21.5 kB for 50 names: 1 MB holds
 * some 2,400), and a message the broker refuses is refused for ever: it held the agent's outbox
 * for two minutes, then went with everything queued behind it — the run's hits and the agent's
 * `finished` event. Split, the endpoints spread over several snapshots of the same source, each
 * under a seq of its own, so the runner merges them as any others: counters add, nothing twice.
 *
 * A part that cannot fit even alone (one endpoint bigger than the limit: a huge name; or the
 * figures that are not an endpoint's) is not sent: `emptied` stands in for it under its seq,
 * and the agent's `finished` event says what it carried (docs/reliability.md).
 */
import type { Snapshot } from '../stats/types.js'

/**
 * `snapshot` as it is when `fits`, else in parts that each fit as far as splitting endpoints
 * can. The first part keeps the seq and every figure that is not an endpoint's; the others take
 * seqs from `nextSeq` and carry endpoints only; the last part is `final` (when the snapshot was)
 * and carries the generator's sample, which closes its warnings on the final one. An endpoint
 * too big alone ends up in a part of its own, so the parts that fit keep everything else.
 */
export function splitToFit(snapshot: Snapshot, fits: (s: Snapshot) => boolean, nextSeq: () => number): Snapshot[] {
  return split(snapshot, fits, nextSeq, true)
}

function split(snapshot: Snapshot, fits: (s: Snapshot) => boolean, nextSeq: () => number, head: boolean): Snapshot[] {
  const n = snapshot.endpoints.length
  // An endpoints-only part of one endpoint cannot be split further; nor can a head without endpoints.
  if (n === 0 || (n === 1 && !head) || fits(snapshot)) return [snapshot]
  // The head keeps its figures and gives its one endpoint away: then what does not fit is that endpoint alone.
  const half = n === 1 ? 0 : Math.ceil(n / 2)
  const { generator, ...rest } = snapshot
  const first = split({ ...rest, endpoints: snapshot.endpoints.slice(0, half), final: false }, fits, nextSeq, head)
  const tail: Snapshot = {
    ...emptied({ ...snapshot, seq: nextSeq() }),
    endpoints: snapshot.endpoints.slice(half),
  }
  return [...first, ...split(tail, fits, nextSeq, false)]
}

/**
 * `part` with nothing in it but what says where it stands: its source, seq, interval, step and
 * users, whether it is final, and the generator's sample. Sent in place of a part too big for the
 * broker, so the source's seqs stay whole and its final snapshot still arrives.
 */
export function emptied(part: Snapshot): Snapshot {
  return {
    v: part.v,
    source: part.source,
    seq: part.seq,
    startMs: part.startMs,
    endMs: part.endMs,
    step: part.step,
    activeUsers: part.activeUsers,
    tests: { run: 0, failures: 0, errors: 0 },
    endpoints: [],
    latency: '',
    errors: [],
    counters: {},
    ...(part.oldestInFlightMs !== undefined ? { oldestInFlightMs: part.oldestInFlightMs } : {}),
    ...(part.generator !== undefined ? { generator: part.generator } : {}),
    final: part.final,
  }
}

/** The hits and test runs a snapshot carries (what is lost with it). */
export function carried(part: Snapshot): { hits: number; testsRun: number } {
  return { hits: part.endpoints.reduce((n, e) => n + e.hits, 0), testsRun: part.tests.run }
}
