import { readFileSync } from 'node:fs'
import path from 'node:path'
import { UsageError } from '../errors.js'
import { parseResolve } from '../http/resolve-map.js'
import { loadDataFile } from '../load/data-file.js'
import type { DataMode } from '../load/data-feed.js'
import type { Plan } from '../load/plan.js'
import type { RunConfig } from '../load/run-config.js'

/** The options of a run that name files or pin hosts: read here once, into plain RunConfig data. */
export interface ConnectionAndDataOptions {
  cwd: string
  http2?: boolean
  /** `--h2c`: HTTP/2 by prior knowledge to http:// origins. */
  h2c?: boolean
  /** `--h2-streams N`: users of a worker per HTTP/2 connection. */
  h2Streams?: number
  /** `--cacert FILE` (PEM). */
  cacert?: string
  /** `--cert FILE` and `--key FILE` (PEM), both or neither. */
  cert?: string
  key?: string
  /** `--resolve host:port:addr`, repeatable. */
  resolve?: string[]
  /** `--data FILE` (.csv, .json, .jsonl). */
  data?: string
  dataMode?: DataMode
  /** Agents running the whole plan each: unique rows are needed for all of them. */
  agents?: number
}

/**
 * Reads certificate and data files on the coordinator, so that the RunConfig carries their
 * content: workers and agents (which may be on other machines) never open the user's files.
 */
export function connectionAndData(options: ConnectionAndDataOptions, plan: Plan): Partial<RunConfig> {
  const out: Partial<RunConfig> = {}
  if (options.http2 === true) out.http2 = true
  if (options.h2c === true) out.h2c = true
  if (options.h2Streams !== undefined && options.h2Streams > 1) out.h2Streams = options.h2Streams
  if (options.cacert !== undefined) out.ca = readPem(options.cacert, '--cacert', options.cwd)
  if ((options.cert === undefined) !== (options.key === undefined)) {
    throw new UsageError('--cert and --key go together: the client certificate and its private key')
  }
  if (options.cert !== undefined) out.cert = readPem(options.cert, '--cert', options.cwd)
  if (options.key !== undefined) out.key = readPem(options.key, '--key', options.cwd)
  if (options.resolve !== undefined && options.resolve.length > 0) out.resolve = parseResolve(options.resolve)
  if (options.data !== undefined) {
    const stepUsers = plan.steps.map((s) => s.users)
    out.data = loadDataFile(options.data, options.cwd, options.dataMode ?? 'round-robin', stepUsers, options.agents ?? 1)
  } else if (options.dataMode !== undefined) {
    throw new UsageError('--data-mode needs --data FILE')
  }
  return out
}

function readPem(file: string, flag: string, cwd: string): string {
  let text: string
  try {
    text = readFileSync(path.resolve(cwd, file), 'utf8')
  } catch (err) {
    throw new UsageError(`${flag} ${file}: cannot read it: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
  }
  if (!text.includes('-----BEGIN ')) throw new UsageError(`${flag} ${file} is not a PEM file (no -----BEGIN line)`)
  return text
}
