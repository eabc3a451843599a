/**
 * An agent's snapshot in messages the broker takes. One message nearly always; but a second with
 * thousands of URL names can outgrow the broker's max_payload (21.5 kB for 50 names: 1 MB holds
 * some 2,400), and a message the broker refuses is refused for ever: it held the agent's outbox
 * for two minutes, then went with everything queued behind it — the run's hits and the agent's
 * `finished` event. Split, the endpoints spread over several snapshots of the same source, each
 * under a seq of its own, so the runner merges them as any others: counters add, nothing twice.
 *
 * The first part's figures too big alone are mostly error groups (up to 100 per worker a second,
 * each with a 500-character message and a 4,000-character stack): `trimErrors` folds the rarest
 * into `(other errors)`, every count kept. A part that still cannot fit (one endpoint bigger than
 * the limit: a huge name; thousands of counter or check names) is not sent: `emptied` stands in
 * for it under its seq, and the agent's `finished` event says what it carried (docs/reliability.md).
 */
import { OTHER_ERRORS } from '../stats/error-groups.js'
import type { ErrorGroup, Snapshot } from '../stats/types.js'

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

/**
 * `part` with its error groups folded until it `fits`: the most frequent kept whole (message and
 * stack), the rest into one `(other errors)` group per outcome and kind — as the recorder folds
 * groups past its bound — or, if that is still too big, per outcome. Every count is kept: the
 * run's error totals stay exact, only messages and stacks are lost. Undefined when it does not
 * fit even so (or has no error groups).
 */
export function trimErrors(part: Snapshot, fits: (s: Snapshot) => boolean): Snapshot | undefined {
  if (part.errors.length === 0) return undefined
  const sorted = [...part.errors].sort((a, b) => b.count - a.count)
  const fold = (keep: number, byKind: boolean): Snapshot => {
    const folded = new Map<string, ErrorGroup>()
    for (const g of sorted.slice(keep)) {
      const kind = byKind ? g.kind : OTHER_ERRORS
      const key = `${g.outcome}\u0000${kind}`
      const f = folded.get(key)
      if (f !== undefined) f.count += g.count
      else folded.set(key, { outcome: g.outcome, kind, message: OTHER_ERRORS, test: '', count: g.count, stack: '' })
    }
    return { ...part, errors: [...sorted.slice(0, keep), ...folded.values()] }
  }
  if (!fits(fold(0, true))) {
    const all = fold(0, false)
    return fits(all) ? all : undefined
  }
  // The most groups kept whole that fit: fold(lo) fits, fold(hi + 1) does not.
  let lo = 0
  let hi = sorted.length - 1
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2)
    if (fits(fold(mid, true))) lo = mid
    else hi = mid - 1
  }
  return fold(lo, true)
}
