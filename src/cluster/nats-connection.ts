/**
 * How agents and runners reach the broker: URLs, credentials (token, user/password, NATS creds
 * or nkey file, TLS), the security rule for agents, and connection errors that say what to do.
 */
import { readFileSync } from 'node:fs'
import { isIP } from 'node:net'
import type { NatsConnection, NodeConnectionOptions } from '@nats-io/transport-node'
import { LoadsError, UsageError } from '../errors.js'
import { loadNatsClient, natsClient } from './nats-client.js'

export const DEFAULT_BROKER = 'nats://127.0.0.1:4222'

/** Where and how to connect. Files are read when connecting. */
export interface BrokerOptions {
  /** `nats://host:port` or `tls://host:port`; several for a NATS cluster. */
  servers: string[]
  token?: string
  user?: string
  password?: string
  /** A NATS `.creds` file (JWT + nkey seed). */
  credsFile?: string
  /** A file holding an nkey seed (`SU…`). */
  nkeyFile?: string
  tlsCaFile?: string
  tlsCertFile?: string
  tlsKeyFile?: string
  /** Agents only: connect to a non-loopback broker with neither authentication nor TLS. */
  allowInsecure?: boolean
}

/**
 * The credentials file `loads-cluster` writes (mode 0600): enough for a runner or an agent on
 * this machine to reach its broker with no flag at all.
 */
export interface CredentialsFile {
  servers: string[]
  token?: string
  user?: string
  password?: string
  tlsCaFile?: string
}

export function readCredentialsFile(file: string): CredentialsFile {
  let parsed: unknown
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'))
  } catch (err) {
    throw new UsageError(`cannot read the credentials file ${file}: ${(err as Error).message}`, undefined, 'LOADS_ERR_CREDENTIALS')
  }
  const c = parsed as Partial<CredentialsFile>
  if (!Array.isArray(c.servers) || !c.servers.every((s) => typeof s === 'string')) {
    throw new UsageError(`the credentials file ${file} has no "servers" list`, undefined, 'LOADS_ERR_CREDENTIALS')
  }
  return c as CredentialsFile
}

/** Flags (or environment) override the credentials file, field by field. */
export function mergeCredentials(file: CredentialsFile | undefined, given: Partial<BrokerOptions>): BrokerOptions {
  const out: BrokerOptions = { servers: given.servers ?? file?.servers ?? [DEFAULT_BROKER] }
  const explicitAuth = given.token !== undefined || given.user !== undefined || given.credsFile !== undefined || given.nkeyFile !== undefined
  if (!explicitAuth && file) {
    if (file.token !== undefined) out.token = file.token
    if (file.user !== undefined) out.user = file.user
    if (file.password !== undefined) out.password = file.password
  }
  if (file?.tlsCaFile !== undefined) out.tlsCaFile = file.tlsCaFile
  for (const key of ['token', 'user', 'password', 'credsFile', 'nkeyFile', 'tlsCaFile', 'tlsCertFile', 'tlsKeyFile', 'allowInsecure'] as const) {
    const value = given[key]
    if (value !== undefined) (out as unknown as Record<string, unknown>)[key] = value
  }
  return out
}

/** 127.0.0.0/8, ::1 and localhost: a broker only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase()
  if (h === 'localhost' || h.endsWith('.localhost')) return true
  if (isIP(h) === 4) return h.startsWith('127.')
  if (isIP(h) === 6) return h === '::1' || h === '0:0:0:0:0:0:0:1'
  return false
}

function hostOf(server: string): string {
  try {
    return new URL(server.includes('://') ? server : `nats://${server}`).hostname
  } catch {
    throw new UsageError(`bad broker URL '${server}'`, 'use nats://HOST:4222 or tls://HOST:4222', 'LOADS_ERR_BROKER_URL')
  }
}

function usesTls(opts: BrokerOptions): boolean {
  return opts.servers.some((s) => s.startsWith('tls://')) || opts.tlsCaFile !== undefined || opts.tlsCertFile !== undefined
}

function hasAuth(opts: BrokerOptions): boolean {
  return opts.token !== undefined || opts.user !== undefined || opts.credsFile !== undefined || opts.nkeyFile !== undefined
}

/**
 * The agent's door policy: an agent runs whatever code it is sent, so it talks to a broker other
 * machines can reach only with authentication or TLS — or when told `--allow-insecure`.
 */
export function checkAgentSecurity(opts: BrokerOptions): void {
  if (opts.allowInsecure === true || hasAuth(opts) || usesTls(opts)) return
  const open = opts.servers.filter((s) => !isLoopbackHost(hostOf(s)))
  if (open.length === 0) return
  throw new UsageError(
    `refusing to use the broker ${open.join(', ')} without authentication or TLS: an agent runs the code it is sent, so anyone who can publish to that broker could run code on this machine`,
    'give credentials (--token, --user/--password, --creds, --nkey, or --credentials FILE from loads-cluster) or TLS (--tls-ca …), or --allow-insecure on a network you trust',
    'LOADS_ERR_INSECURE_BROKER',
  )
}

export interface ConnectOptions {
  /** Shown by the broker's monitoring (`loads-agent host-123`). */
  name: string
  /** Keep trying until the broker is up (agents); a runner fails fast instead. */
  waitForBroker?: boolean
  timeoutMs?: number
}

/** The NATS client options for these broker options (files read now); the client is loaded. */
export function natsOptions(opts: BrokerOptions, c: ConnectOptions): NodeConnectionOptions {
  const { credsAuthenticator, nkeyAuthenticator } = natsClient().transport
  const o: NodeConnectionOptions = {
    servers: opts.servers,
    name: c.name,
    // Never give up on a broker that restarts: the run goes on once it is back.
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    reconnectJitter: 200,
    pingInterval: 10_000,
    maxPingOut: 3,
    timeout: c.timeoutMs ?? 5000,
    waitOnFirstConnect: c.waitForBroker === true,
  }
  if (opts.token !== undefined) o.token = opts.token
  if (opts.user !== undefined) o.user = opts.user
  if (opts.password !== undefined) o.pass = opts.password
  if (opts.credsFile !== undefined) o.authenticator = credsAuthenticator(readAuthFile(opts.credsFile, '--creds'))
  if (opts.nkeyFile !== undefined) {
    o.authenticator = nkeyAuthenticator(new TextEncoder().encode(readFileSync(opts.nkeyFile, 'utf8').trim()))
  }
  if (usesTls(opts)) {
    o.tls = {
      ...(opts.tlsCaFile !== undefined ? { caFile: opts.tlsCaFile } : {}),
      ...(opts.tlsCertFile !== undefined ? { certFile: opts.tlsCertFile } : {}),
      ...(opts.tlsKeyFile !== undefined ? { keyFile: opts.tlsKeyFile } : {}),
    }
  }
  return o
}

function readAuthFile(file: string, flag: string): Uint8Array {
  try {
    return readFileSync(file)
  } catch (err) {
    throw new UsageError(`${flag}: cannot read ${file}: ${(err as Error).message}`, undefined, 'LOADS_ERR_CREDENTIALS')
  }
}

/** A broker that cannot be reached or refuses us. */
export class BrokerError extends LoadsError {
  constructor(message: string, hint?: string, code = 'LOADS_ERR_BROKER_UNREACHABLE') {
    super(code, message, { hint })
    this.name = 'BrokerError'
  }
}

/** Connects, turning the client's errors into ones a user can act on. */
export async function connectBroker(opts: BrokerOptions, c: ConnectOptions): Promise<NatsConnection> {
  const { connect } = (await loadNatsClient()).transport
  const natsOpts = natsOptions(opts, c)
  try {
    return await connect(natsOpts)
  } catch (err) {
    const e = err as Error & { code?: string; cause?: Error & { code?: string } }
    const text = `${e.message} ${e.code ?? ''} ${e.cause?.message ?? ''} ${e.cause?.code ?? ''}`
    const where = opts.servers.join(', ')
    if (/authoriz|authentic|auth/i.test(text)) {
      throw new BrokerError(
        `the broker at ${where} refused our credentials (${e.message})`,
        'check the token / user and password / creds file; loads-cluster writes them to its credentials.json',
        'LOADS_ERR_BROKER_AUTH',
      )
    }
    throw new BrokerError(
      `cannot reach the broker at ${where}: ${e.cause?.message ?? e.message}`,
      'start one with `loads-cluster start --agents 5`, or point --broker at yours',
    )
  }
}
