/**
 * The settings of `loads-cluster start`, from flags or a `cluster.ini` (what the original's
 * `loads.ini` circus file held): the broker, how many agents, where files go.
 */
import { readFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { UsageError } from '../errors.js'

export interface ClusterConfig {
  /** Where the broker's config, credentials, JetStream store, state and logs live. */
  dir: string
  /** Address the broker listens on: loopback unless told otherwise. */
  host: string
  port: number
  /** Largest NATS message (`8MB`): test bundles up to this travel in one message. */
  maxPayload: string
  /** Agents started and supervised on this machine. */
  agents: number
  /** Worker threads per agent; default one per core. */
  workers: number | undefined
  /** The nats-server binary; default: found in PATH or /usr/sbin. */
  natsServer: string | undefined
}

export const CLUSTER_DEFAULTS: Omit<ClusterConfig, 'dir'> = {
  host: '127.0.0.1',
  port: 4222,
  maxPayload: '8MB',
  agents: 5,
  workers: undefined,
  natsServer: undefined,
}

/** nats-server's own ceiling for max_payload (it refuses more), bytes. */
const MAX_PAYLOAD_LIMIT = 64 * 1024 * 1024
/** Below this, test bundles and snapshots could not cross, bytes. */
const MAX_PAYLOAD_FLOOR = 64 * 1024
const SIZE_UNITS: Record<string, number> = { '': 1, B: 1, K: 1024, KB: 1024, M: 1024 ** 2, MB: 1024 ** 2, G: 1024 ** 3, GB: 1024 ** 3 }

/**
 * The settings as given (flags over the ini file) checked before anything starts: a port in
 * range, a message size nats-server accepts and bundles fit in. Returns them with max_payload
 * normalised (`8MB`, `512KB`, a number of bytes).
 */
export function checkClusterConfig(c: ClusterConfig): ClusterConfig {
  if (!Number.isInteger(c.port) || c.port < 1 || c.port > 65535) {
    throw new UsageError(`the broker port must be from 1 to 65535: got ${c.port}`, 'loads-cluster start --port 4222', 'LOADS_ERR_CLUSTER_CONFIG')
  }
  const m = /^\s*(\d+)\s*([KMG]?B?)\s*$/i.exec(c.maxPayload)
  const unit = m?.[2]?.toUpperCase() ?? ''
  const bytes = m && unit in SIZE_UNITS ? Number(m[1]) * SIZE_UNITS[unit]! : Number.NaN
  if (!Number.isFinite(bytes)) {
    throw new UsageError(`--max-payload expects a size such as 8MB, 512KB or 1048576: got '${c.maxPayload}'`, undefined, 'LOADS_ERR_CLUSTER_CONFIG')
  }
  if (bytes < MAX_PAYLOAD_FLOOR || bytes > MAX_PAYLOAD_LIMIT) {
    throw new UsageError(
      `--max-payload must be from 64KB to 64MB (nats-server's ceiling): got '${c.maxPayload}'`,
      `the default, ${CLUSTER_DEFAULTS.maxPayload}, carries test bundles up to that size in one message`,
      'LOADS_ERR_CLUSTER_CONFIG',
    )
  }
  return { ...c, maxPayload: `${m![1]}${unit === 'B' ? '' : unit.length === 1 ? `${unit}B` : unit}` }
}

/** `$LOADS_CLUSTER_DIR`, else `~/.loads/cluster`. */
export function defaultClusterDir(env: NodeJS.ProcessEnv): string {
  return env.LOADS_CLUSTER_DIR ?? path.join(os.homedir(), '.loads', 'cluster')
}

/** `[section] key = value` pairs; `#` and `;` start comments. */
export function parseIni(text: string, file: string): Map<string, string> {
  const out = new Map<string, string>()
  let section = ''
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.replace(/\s[#;].*$/, '').trim()
    if (line === '' || line.startsWith('#') || line.startsWith(';')) return
    const header = /^\[([^\]]+)\]$/.exec(line)
    if (header) {
      section = header[1]!.trim()
      return
    }
    const eq = line.indexOf('=')
    if (eq < 1) throw new UsageError(`${file}:${i + 1}: expected 'key = value' or '[section]', got '${raw.trim()}'`, undefined, 'LOADS_ERR_CONFIG')
    out.set(`${section}.${line.slice(0, eq).trim()}`, line.slice(eq + 1).trim())
  })
  return out
}

const KEYS: Record<string, keyof ClusterConfig> = {
  'cluster.dir': 'dir',
  'broker.host': 'host',
  'broker.port': 'port',
  'broker.max_payload': 'maxPayload',
  'broker.nats_server': 'natsServer',
  'agents.count': 'agents',
  'agents.workers': 'workers',
}

/** Reads a cluster.ini; unknown keys are an error (a typo must not be silently ignored). */
export function readClusterIni(file: string): Partial<ClusterConfig> {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${(err as Error).message}`, undefined, 'LOADS_ERR_CONFIG')
  }
  const out: Partial<Record<keyof ClusterConfig, string | number>> = {}
  for (const [key, value] of parseIni(text, file)) {
    const field = KEYS[key]
    if (!field) throw new UsageError(`${file}: unknown setting '${key}'`, `known: ${Object.keys(KEYS).join(', ')}`, 'LOADS_ERR_CONFIG')
    if (field === 'port' || field === 'agents' || field === 'workers') {
      if (!/^\d+$/.test(value)) throw new UsageError(`${file}: ${key} expects a whole number, got '${value}'`, undefined, 'LOADS_ERR_CONFIG')
      out[field] = Number(value)
    } else {
      out[field] = field === 'dir' ? value.replace(/^~(?=$|\/)/, os.homedir()) : value
    }
  }
  return out as Partial<ClusterConfig>
}

/** The file `loads-cluster start --config` understands, with its defaults: `loads-cluster.ini`. */
export function sampleClusterIni(): string {
  return `# loads-cluster start --config cluster.ini
[broker]
host = 127.0.0.1        ; loopback: only this machine. Another address lets other hosts in (with the generated credentials)
port = 4222
max_payload = 8MB       ; test bundles up to this size travel in one message
; nats_server = /usr/sbin/nats-server

[agents]
count = 5
; workers = 2           ; worker threads per agent (default: one per core)

[cluster]
; dir = ~/.loads/cluster   ; config, credentials (0600), JetStream store, logs
`
}
