import { existsSync } from 'node:fs'
import path from 'node:path'
import { Option, type Command } from 'commander'
import { defaultClusterDir } from '../cluster/cluster-config.js'
import { mergeCredentials, readCredentialsFile, type BrokerOptions, type CredentialsFile } from '../cluster/nats-connection.js'

/** The broker flags as commander hands them over (camelCase of the flag names, prefix stripped). */
export interface BrokerFlags {
  broker?: string
  credentials?: string
  token?: string
  user?: string
  password?: string
  creds?: string
  nkey?: string
  tlsCa?: string
  tlsCert?: string
  tlsKey?: string
  allowInsecure?: boolean
}

const FIELDS = ['token', 'user', 'password', 'creds', 'nkey', 'tlsCa', 'tlsCert', 'tlsKey'] as const

/**
 * Adds the broker flags. The runner prefixes them (`--broker-token`: its `-u` is users), the
 * agent does not (`--token`). Secrets are better passed by environment or credentials file
 * than on a command line others can read in `ps`.
 */
export function addBrokerOptions(command: Command, prefix: '' | 'broker-', defaultHelp: string): Command {
  const p = prefix
  return command
    .addOption(new Option('--broker <urls>', `broker URL(s), comma-separated (env LOADS_BROKER; default: ${defaultHelp})`))
    .addOption(new Option('--credentials <file>', 'credentials file written by loads-cluster (env LOADS_CREDENTIALS; default: ~/.loads/cluster/credentials.json when present)'))
    .addOption(new Option(`--${p}token <token>`, 'broker token (env LOADS_BROKER_TOKEN)'))
    .addOption(new Option(`--${p}user <user>`, 'broker user (env LOADS_BROKER_USER)'))
    .addOption(new Option(`--${p}password <password>`, 'broker password (env LOADS_BROKER_PASSWORD)'))
    .addOption(new Option(`--${p}creds <file>`, 'NATS .creds file, JWT + nkey seed (env LOADS_BROKER_CREDS)'))
    .addOption(new Option(`--${p}nkey <file>`, 'file holding an nkey seed (env LOADS_BROKER_NKEY)'))
    .addOption(new Option(`--${p}tls-ca <file>`, 'CA certificate that signed the broker’s (env LOADS_BROKER_TLS_CA)'))
    .addOption(new Option(`--${p}tls-cert <file>`, 'client certificate, mutual TLS (env LOADS_BROKER_TLS_CERT)'))
    .addOption(new Option(`--${p}tls-key <file>`, 'client key, mutual TLS (env LOADS_BROKER_TLS_KEY)'))
}

/** The flags of `addBrokerOptions(…, prefix)` with the prefix taken off. */
export function brokerFlags(flags: Record<string, unknown>, prefix: '' | 'broker-'): BrokerFlags {
  const out: BrokerFlags = {}
  if (typeof flags.broker === 'string') out.broker = flags.broker
  if (typeof flags.credentials === 'string') out.credentials = flags.credentials
  if (flags.allowInsecure === true) out.allowInsecure = true
  for (const f of FIELDS) {
    const key = prefix === '' ? f : `broker${f[0]!.toUpperCase()}${f.slice(1)}`
    const v = flags[key]
    if (typeof v === 'string') out[f] = v
  }
  return out
}

/**
 * Flags, then environment, then the credentials file: explicit (`--credentials`,
 * `LOADS_CREDENTIALS`) or loads-cluster's default one — used only for its own broker.
 */
export function resolveBroker(flags: BrokerFlags, env: NodeJS.ProcessEnv, cwd: string): BrokerOptions {
  const servers = (flags.broker ?? env.LOADS_BROKER)?.split(',').map((s) => s.trim()).filter(Boolean)
  const explicitFile = flags.credentials ?? env.LOADS_CREDENTIALS
  let file: CredentialsFile | undefined
  if (explicitFile !== undefined) file = readCredentialsFile(path.resolve(cwd, explicitFile))
  else {
    const implicit = path.join(defaultClusterDir(env), 'credentials.json')
    if (existsSync(implicit)) {
      const candidate = readCredentialsFile(implicit)
      if (servers === undefined || servers.some((s) => candidate.servers.includes(s))) file = candidate
    }
  }
  const given: Partial<BrokerOptions> = {}
  if (servers !== undefined && servers.length > 0) given.servers = servers
  const token = flags.token ?? env.LOADS_BROKER_TOKEN
  const user = flags.user ?? env.LOADS_BROKER_USER
  const password = flags.password ?? env.LOADS_BROKER_PASSWORD
  if (token !== undefined) given.token = token
  if (user !== undefined) given.user = user
  if (password !== undefined) given.password = password
  const files = {
    credsFile: flags.creds ?? env.LOADS_BROKER_CREDS,
    nkeyFile: flags.nkey ?? env.LOADS_BROKER_NKEY,
    tlsCaFile: flags.tlsCa ?? env.LOADS_BROKER_TLS_CA,
    tlsCertFile: flags.tlsCert ?? env.LOADS_BROKER_TLS_CERT,
    tlsKeyFile: flags.tlsKey ?? env.LOADS_BROKER_TLS_KEY,
  }
  for (const [key, file] of Object.entries(files) as [keyof typeof files, string | undefined][]) {
    if (file !== undefined) given[key] = path.resolve(cwd, file)
  }
  if (flags.allowInsecure === true) given.allowInsecure = true
  return mergeCredentials(file, given)
}
