import type { Snapshot, Unfinished } from '../stats/types.js'
import type { AgentEvent, FinishReason, Undelivered } from './protocol.js'
import { describeUndelivered } from './snapshot-split.js'

/**
 * Where one agent stands in a run. `silent`: no heartbeat for a while, but its connection to the
 * broker is open (frozen, or starved on a loaded host): waited for, not given up yet.
 */
export type AgentRunState = 'starting' | 'running' | 'silent' | FinishReason | 'failed' | 'lost' | 'refused'

export interface AgentRow {
  agentId: string
  state: AgentRunState
  hits: number
  networkErrors: number
  tests: { run: number; failures: number; errors: number }
  step: number
  /** When we last heard of it (heartbeat, snapshot or event), ms since epoch. */
  lastHeardMs: number
  /** Why it failed, was refused or lost. */
  message: string | undefined
  /** What its engine said at the end: its workers that crashed, were stuck, ran out of memory. */
  notes: string[]
  /** Its final snapshot reached us: nothing of its results is missing. */
  final: boolean
  /** The end of the newest snapshot of it that reached us, ms since epoch; undefined before the first. */
  lastSnapshotEndMs: number | undefined
  /** The state it had before it went silent (to go back to when it is heard again). */
  beforeSilence: AgentRunState | undefined
  /** What it counted but could not deliver, as its `finished` event says (too big for the broker). */
  undelivered: Undelivered | undefined
}

/** States after which an agent sends nothing more for the run. */
const TERMINAL: ReadonlySet<AgentRunState> = new Set(['done', 'stopped', 'runner-lost', 'broker-lost', 'purged', 'shutdown', 'failed', 'lost', 'refused'])

/**
 * The runner's view of every agent of a run: its state and its own totals (for the per-agent
 * lines), fed by the same stored snapshots and events that feed the aggregator.
 */
export class AgentBoard {
  readonly #rows = new Map<string, AgentRow>()
  /** Seqs seen per snapshot source, so a redelivered snapshot is not counted twice here either. */
  readonly #seen = new Map<string, SeqTracker>()
  #maxStep = -1
  /** The start of the earliest snapshot seen, ms since epoch (the run's clock, as the summary's). */
  #startMs: number | undefined

  constructor(private readonly now: () => number = Date.now) {}

  /** The agents the run was sent to: the run is over once each of them is. */
  expect(agentIds: readonly string[]): void {
    for (const id of agentIds) this.#row(id)
  }

  get agentIds(): string[] {
    return [...this.#rows.keys()]
  }

  row(agentId: string): AgentRow | undefined {
    return this.#rows.get(agentId)
  }

  rows(): AgentRow[] {
    return [...this.#rows.values()]
  }

  heard(agentId: string, atMs = this.now()): void {
    const row = this.#rows.get(agentId)
    if (row) row.lastHeardMs = Math.max(row.lastHeardMs, atMs)
  }

  /** Counts a snapshot into its agent's totals; false if it was seen before. */
  addSnapshot(agentId: string, snapshot: Snapshot): boolean {
    let seen = this.#seen.get(snapshot.source)
    if (!seen) this.#seen.set(snapshot.source, (seen = new SeqTracker()))
    if (!seen.accept(snapshot.seq)) return false
    const row = this.#row(agentId)
    if (row.state === 'starting') row.state = 'running'
    this.#startMs = Math.min(this.#startMs ?? snapshot.startMs, snapshot.startMs)
    for (const e of snapshot.endpoints) {
      row.hits += e.hits
      row.networkErrors += e.errors
    }
    row.tests.run += snapshot.tests.run
    row.tests.failures += snapshot.tests.failures
    row.tests.errors += snapshot.tests.errors
    row.step = Math.max(row.step, snapshot.step)
    row.final ||= snapshot.final
    row.lastSnapshotEndMs = Math.max(row.lastSnapshotEndMs ?? 0, snapshot.endMs)
    this.heard(agentId)
    return true
  }

  /** Applies an event; returns the step index when it is the first time any agent reached it. */
  addEvent(event: AgentEvent): number | undefined {
    const row = this.#row(event.agentId)
    // `lost` is a runner's word on the agent, not a sign of life from it.
    if (event.event !== 'lost') this.heard(event.agentId)
    switch (event.event) {
      case 'started':
        if (row.state === 'starting') row.state = 'running'
        break
      case 'step':
        row.step = Math.max(row.step, event.step)
        if (event.step > this.#maxStep) {
          this.#maxStep = event.step
          return event.step
        }
        break
      case 'finished':
        // A lost agent that turns up again and finishes is finished after all.
        row.state = event.reason
        if (event.notes !== undefined) row.notes = event.notes
        if (event.undelivered !== undefined) row.undelivered = event.undelivered
        break
      case 'failed':
        row.state = 'failed'
        row.message = event.message
        break
      case 'refused':
        row.state = 'refused'
        row.message = event.message
        break
      case 'lost':
        if (!this.isTerminal(event.agentId)) {
          row.state = 'lost'
          row.message = `no heartbeat for ${(event.silentMs / 1000).toFixed(1)} s`
        }
        break
    }
    return undefined
  }

  /** No heartbeat for a while, its connection still open: waited for (see `back`). */
  silent(agentId: string): void {
    const row = this.#rows.get(agentId)
    if (!row || this.isTerminal(agentId) || row.state === 'silent') return
    row.beforeSilence = row.state
    row.state = 'silent'
  }

  /**
   * Heard live again (a heartbeat of this run) after it went silent or was given up: it runs on,
   * and the run waits for it again. Returns the state it comes back from, if it was either.
   */
  back(agentId: string): 'silent' | 'lost' | undefined {
    const row = this.#rows.get(agentId)
    if (!row || (row.state !== 'silent' && row.state !== 'lost')) return undefined
    const was = row.state
    row.state = row.beforeSilence ?? 'running'
    row.beforeSilence = undefined
    row.message = undefined
    return was
  }

  /**
   * Agents whose results stop short: they ran (or were sent the run and not refused) but their
   * final snapshot never reached us — lost, or cut off with the broker. What reached us of them
   * is in the results; what they did after their last snapshot is not.
   */
  missingTails(): AgentRow[] {
    return this.rows()
      .filter((r) => !r.final && r.state !== 'refused')
      .sort((a, b) => a.agentId.localeCompare(b.agentId))
  }

  /**
   * Every agent whose final snapshot never reached us — `missingTails()` and the agents that
   * refused the run — with its state and the reason the summary gives: what the JSON result
   * says of each (`sources[].unfinished`).
   */
  unfinished(): (Unfinished & { agentId: string })[] {
    return this.rows()
      .filter((r) => !r.final)
      .sort((a, b) => a.agentId.localeCompare(b.agentId))
      .map((r) => ({ agentId: r.agentId, state: r.state, reason: reasonOf(r) }))
  }

  /**
   * Lines under the summary for `missingTails()`: whose results stop short, why, and how much of
   * them is counted — Loads knows only what reached it; the target may have served more.
   */
  tailLines(runId: string): string[] {
    return [...this.#tailLines(runId), ...this.undeliveredLines()]
  }

  /**
   * Lines for the agents that finished but could not deliver some of what they counted (snapshot
   * parts over the broker's max_payload even alone): exactly how much is not in the figures.
   */
  undeliveredLines(): string[] {
    const rows = this.rows()
      .filter((r) => r.undelivered !== undefined && r.undelivered.messages > 0)
      .sort((a, b) => a.agentId.localeCompare(b.agentId))
    if (rows.length === 0) return []
    return [
      `Undelivered results: ${rows.length === 1 ? 'one agent' : `${rows.length} agents`} counted hits that never reached this runner (not in these figures):`,
      ...rows.map((r) => {
        const u = r.undelivered!
        return `  ${r.agentId}: ${describeUndelivered(u)} in ${u.messages} snapshot part${u.messages === 1 ? '' : 's'} the broker could not take (over its max_payload even alone, or storing failed for 2 min); see the agent's log`
      }),
    ]
  }

  #tailLines(runId: string): string[] {
    const rows = this.missingTails()
    if (rows.length === 0) return []
    const lines = rows.map((r) => {
      // A failure says why, on one line: the agents table above has its whole message.
      const why = r.state === 'lost' || r.state === 'silent' ? reasonOf(r) : r.state === 'failed' ? `failed: ${shortened(r.message ?? '')}` : describe(r.state)
      if (r.lastSnapshotEndMs === undefined) return `  ${r.agentId} (${why}): none of its results reached this runner; 0 hits counted`
      const at = this.#startMs === undefined ? '' : `, ${((r.lastSnapshotEndMs - this.#startMs) / 1000).toFixed(0)} s into the run`
      return `  ${r.agentId} (${why}): ${r.hits} hits counted, up to its last snapshot (${new Date(r.lastSnapshotEndMs).toISOString().slice(11, 19)} UTC${at}); its final snapshot never came`
    })
    return [
      `Missing results: ${rows.length === 1 ? 'one agent' : `${rows.length} agents`} did not report to the end; what ${rows.length === 1 ? 'it' : 'they'} did after the last snapshot below is not in these figures:`,
      ...lines,
      `  Whatever ${rows.length === 1 ? 'it' : 'they'} stored later is replayed by: loads-runner --attach ${runId}`,
    ]
  }

  isTerminal(agentId: string): boolean {
    const row = this.#rows.get(agentId)
    return row !== undefined && TERMINAL.has(row.state)
  }

  allDone(): boolean {
    return this.#rows.size > 0 && [...this.#rows.keys()].every((id) => this.isTerminal(id))
  }

  /** Some agent's results are missing: lost, failed, refused, or cut off from its runner or broker. */
  partial(): boolean {
    // Lost after its final snapshot (frozen between it and its `finished` event): nothing is missing.
    // An agent that finished without delivering all it counted: partial too.
    return this.rows().some(
      (r) => (r.state !== 'done' && r.state !== 'stopped' && r.state !== 'purged' && !(r.state === 'lost' && r.final)) || (r.undelivered?.messages ?? 0) > 0,
    )
  }

  /** Any agent stopped on request (Ctrl-C, --purge-broker). */
  interrupted(): boolean {
    return this.rows().some((r) => r.state === 'stopped' || r.state === 'purged')
  }

  /** The per-agent lines under the summary: one line per agent, whatever its message holds. */
  lines(): string[] {
    const rows = this.rows().sort((a, b) => a.agentId.localeCompare(b.agentId))
    if (rows.length === 0) return []
    const counts = new Map<string, number>()
    for (const r of rows) counts.set(describe(r.state), (counts.get(describe(r.state)) ?? 0) + 1)
    const head = `Agents: ${rows.length} (${[...counts].map(([s, n]) => `${n} ${s}`).join(', ')})`
    const idWidth = Math.max(5, ...rows.map((r) => r.agentId.length))
    const table = [
      `  ${'AGENT'.padEnd(idWidth)}  ${'HITS'.padStart(9)}  ${'ERRORS'.padStart(7)}  ${'FAILURES'.padStart(8)}  STATE`,
      ...rows.map(
        (r) =>
          `  ${r.agentId.padEnd(idWidth)}  ${String(r.hits).padStart(9)}  ${String(r.tests.errors).padStart(7)}  ${String(r.tests.failures).padStart(8)}  ${oneLine(stateText(r))}`,
      ),
    ]
    // A note is `worker-N crashed: <message>`: the message folded, as the table's, one note a line.
    const notes = rows.flatMap((r) => r.notes.map((n) => `  ${oneLine(n)}`))
    return [head, ...table, ...(notes.length > 0 ? ['Agent workers:', ...notes] : [])]
  }

  #row(agentId: string): AgentRow {
    let row = this.#rows.get(agentId)
    if (!row) {
      row = {
        agentId,
        state: 'starting',
        hits: 0,
        networkErrors: 0,
        tests: { run: 0, failures: 0, errors: 0 },
        step: 0,
        lastHeardMs: this.now(),
        message: undefined,
        notes: [],
        final: false,
        lastSnapshotEndMs: undefined,
        beforeSilence: undefined,
        undelivered: undefined,
      }
      this.#rows.set(agentId, row)
    }
    return row
  }
}

/**
 * The seqs of one source seen so far, in constant memory for in-order delivery: everything
 * below `next`, plus the few received past a gap.
 */
class SeqTracker {
  #next = 0
  readonly #above = new Set<number>()

  /** Records `seq`; false if it was seen before. */
  accept(seq: number): boolean {
    if (seq < this.#next || this.#above.has(seq)) return false
    if (seq === this.#next) {
      this.#next++
      while (this.#above.delete(this.#next)) this.#next++
    } else {
      this.#above.add(seq)
    }
    return true
  }
}

function describe(state: AgentRunState): string {
  switch (state) {
    case 'done':
      return 'finished'
    case 'runner-lost':
      return 'stopped (runner lost)'
    case 'broker-lost':
      return 'stopped (broker lost)'
    case 'shutdown':
      return 'stopped (agent shut down)'
    default:
      return state
  }
}

/** Why an agent's results stop short, in the words of the lines under the summary. */
function reasonOf(r: AgentRow): string {
  switch (r.state) {
    case 'lost':
    case 'silent':
      return `${r.state}: ${r.message ?? 'no heartbeat'}`
    case 'failed':
      return `failed: ${r.message ?? ''}`
    case 'refused':
      return `refused the run: ${r.message ?? ''}`
    default:
      return describe(r.state)
  }
}

/** The longest message, in characters, the missing-results lines give whole. */
const REASON_MAX = 100

/**
 * Text on one line: line breaks and runs of whitespace as one space. An agent's message may be
 * an error's whole text (a stack, a compiler's report); on a line of a table it would break the rows.
 */
function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim()
}

/** A message on one line, at most `REASON_MAX` characters, the last one `…` when cut. */
function shortened(message: string): string {
  const chars = [...oneLine(message)]
  return chars.length > REASON_MAX ? `${chars.slice(0, REASON_MAX - 1).join('')}…` : chars.join('')
}

function stateText(r: AgentRow): string {
  switch (r.state) {
    case 'lost':
      if (r.final) return `lost after its final snapshot (${r.message ?? 'no heartbeat'}): its results are complete`
      return `lost: ${r.message ?? 'no heartbeat'}; its results up to its last snapshot are kept`
    case 'silent':
      return `silent: ${r.message ?? 'no heartbeat'}; its results up to its last snapshot are kept`
    default:
      return reasonOf(r)
  }
}
