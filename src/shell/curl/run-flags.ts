/**
 * What a curl command asks of the connection rather than of a request (`--http2`, `--cert`,
 * `--resolve` …): loads-runner has its own flags for these, so the import maps them there — onto
 * the run options for `loads-runner --curl`, onto the printed run command (and a comment in the
 * test) for `loads curl`. Paths are as the command gave them, relative to where it was imported.
 */
export interface CurlRunFlags {
  /** `--http2`: offer HTTP/2 to https:// servers. */
  http2?: boolean
  /** `--http2-prior-knowledge` on an http:// URL: HTTP/2 without TLS. */
  h2c?: boolean
  cert?: string
  key?: string
  cacert?: string
  resolve?: string[]
}

/** The loads-runner arguments for these flags, in a fixed order. */
export function runFlagWords(flags: CurlRunFlags): string[] {
  const words: string[] = []
  if (flags.http2 === true) words.push('--http2')
  if (flags.h2c === true) words.push('--h2c')
  if (flags.cacert !== undefined) words.push('--cacert', flags.cacert)
  if (flags.cert !== undefined) words.push('--cert', flags.cert)
  if (flags.key !== undefined) words.push('--key', flags.key)
  for (const entry of flags.resolve ?? []) words.push('--resolve', entry)
  return words
}

/** Words joined for a POSIX shell, quoted where needed. */
export function shellWords(words: readonly string[]): string {
  return words.map((word) => (/^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`)).join(' ')
}
