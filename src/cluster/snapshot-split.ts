/**
 * An agent's snapshot in messages the broker takes. One message nearly always; but a second with
 * thousands of URL names can outgrow the broker's max_payload (21.5 kB for 50 names: 1 MB holds
 * some 2,400), and a message the broker refuses is refused for ever: it held the agent's outbox
 * for two minutes, then went with everything queued behind it — the run's hits and the agent's
 * `finished` event. Split, the endpoints spread over several snapshots of the same source, each
 * under a seq of its own, so the runner merges them as any others: counters add, nothing twice.
 *
 * The first part's figures too big alone are thousands of check, counter or group names, which
 * `spreadNamed` spreads over parts of their own as endpoints are; or error groups (up to 100 per
 * worker a second, each with a 500-character message and a 4,000-character stack): `trimErrors`
 * folds the rarest into `(other errors)`, every count kept. A part that still cannot fit (one
 * endpoint, check, counter or group bigger than the limit: a huge name) is not sent: `emptied`
 * stands in for it under its seq, and the agent's `finished` event says what it carried (`carried`,
 * docs/cluster.md).
 */
import { OTHER_ERRORS } from '../stats/error-groups.js'
import type { CheckCounts, ErrorGroup, Snapshot, TimedSnapshot, Undelivered } from '../stats/types.js'

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
    ...(part.pauseSeq !== undefined ? { pauseSeq: part.pauseSeq } : {}),
    ...(part.generator !== undefined ? { generator: part.generator } : {}),
    final: part.final,
  }
}

/** What a snapshot part carries, counted as undelivered if it is lost: Undelivered but its `messages`. */
export type Carried = Omit<Undelivered, 'messages'>

/**
 * The hits and test runs a snapshot carries, and the figures no hit or run counts: check
 * evaluations, what counters added, group blocks (each field only when not 0). Its test methods'
 * and scenarios' runs are among its test runs.
 */
export function carried(part: Snapshot): Carried {
  const out: Carried = { hits: part.endpoints.reduce((n, e) => n + e.hits, 0), testsRun: part.tests.run }
  const checks = Object.values(part.checks ?? {}).reduce((n, c) => n + c.passes + c.failures, 0)
  const counters = Object.values(part.counters).reduce((n, v) => n + v, 0)
  const groups = (part.groups ?? []).reduce((n, g) => n + g.runs, 0)
  if (checks > 0) out.checks = checks
  if (counters !== 0) out.counters = counters
  if (groups > 0) out.groups = groups
  return out
}

/** Adds `c` (times `sign`: -1 takes it away) to `into`; a field at 0 is left out. */
export function addCarried(into: Undelivered, c: Carried, sign = 1): void {
  into.hits += sign * c.hits
  into.testsRun += sign * c.testsRun
  for (const k of ['checks', 'counters', 'groups'] as const) {
    const n = (into[k] ?? 0) + sign * (c[k] ?? 0)
    if (n !== 0) into[k] = n
    else delete into[k]
  }
}

/** `300 hits and 0 test runs`, then what else was lost: `(and 40 check evaluations, 7 group blocks, 120 added to counters)`. */
export function describeUndelivered(u: Carried): string {
  const more = [
    u.checks !== undefined ? `${u.checks} check evaluations` : '',
    u.groups !== undefined ? `${u.groups} group blocks` : '',
    u.counters !== undefined ? `${u.counters} added to counters` : '',
  ].filter((x) => x !== '')
  return `${u.hits} hits and ${u.testsRun} test runs${more.length > 0 ? ` (and ${more.join(', ')})` : ''}`
}

/** What a part too big to send held, for the agent's log: `the endpoint GET /x…`, `the check …`, or `its figures other than endpoints`. */
export function partName(part: Snapshot): string {
  const cut = (name: string): string => (name.length > 60 ? `${name.slice(0, 60)}…` : name)
  const checks = Object.keys(part.checks ?? {})
  const counters = Object.keys(part.counters)
  const groups = part.groups ?? []
  const named = checks.length + counters.length + groups.length
  if (part.endpoints.length === 1 && named === 0) return `the endpoint ${part.endpoints[0]!.method} ${cut(part.endpoints[0]!.name)}`
  if (part.endpoints.length === 0 && named === 1 && part.tests.run === 0) {
    if (checks[0] !== undefined) return `the check ${cut(checks[0])}`
    if (counters[0] !== undefined) return `the counter ${cut(counters[0])}`
    return `the group ${cut(groups[0]!.name)}`
  }
  return 'its figures other than endpoints'
}

/** One check, counter or group of a snapshot: what `spreadNamed` deals out. */
type Named = { check: [string, CheckCounts] } | { counter: [string, number] } | { group: TimedSnapshot }

/** `shell` (its own checks, counters and groups left out) carrying `items`. */
function withNamed(shell: Snapshot, items: Named[]): Snapshot {
  const { checks: _c, groups: _g, ...rest } = shell
  const checks: Record<string, CheckCounts> = {}
  const counters: Record<string, number> = {}
  const groups: TimedSnapshot[] = []
  let anyCheck = false
  for (const item of items) {
    if ('check' in item) {
      checks[item.check[0]] = item.check[1]
      anyCheck = true
    } else if ('counter' in item) counters[item.counter[0]] = item.counter[1]
    else groups.push(item.group)
  }
  return { ...rest, counters, ...(anyCheck ? { checks } : {}), ...(groups.length > 0 ? { groups } : {}) }
}

/**
 * A part too big for its checks, counters or group blocks (thousands of names: an id in each
 * check's name) as several that fit: the first keeps the seq and every other figure; the others
 * take seqs from `nextSeq` and carry the named figures, split in halves as endpoints are; the
 * last takes `final` and the generator's sample. Every count arrives, since the runner adds
 * them up by name. A name too big even alone ends up in a part of its own (the caller's to
 * count). Undefined when the part has none of these figures.
 */
export function spreadNamed(part: Snapshot, fits: (s: Snapshot) => boolean, nextSeq: () => number): Snapshot[] | undefined {
  const items: Named[] = [
    ...Object.entries(part.checks ?? {}).map((check): Named => ({ check })),
    ...Object.entries(part.counters).map((counter): Named => ({ counter })),
    ...(part.groups ?? []).map((group): Named => ({ group })),
  ]
  if (items.length === 0) return undefined
  const { generator, ...rest } = part
  const base = withNamed({ ...rest, final: false }, [])
  const deal = (shell: Snapshot, list: Named[]): Snapshot[] => {
    const p = withNamed(shell, list)
    if (list.length === 1 || fits(p)) return [p]
    const half = Math.ceil(list.length / 2)
    // The first half first: seqs rise in the order the parts go.
    const first = deal(shell, list.slice(0, half))
    return [...first, ...deal({ ...shell, seq: nextSeq() }, list.slice(half))]
  }
  const parts = [base, ...deal({ ...emptied(rest), seq: nextSeq(), final: false }, items)]
  const last = parts.length - 1
  parts[last] = { ...parts[last]!, final: part.final, ...(generator !== undefined ? { generator } : {}) }
  return parts
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
