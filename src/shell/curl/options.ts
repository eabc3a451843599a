import { CURL_LONG_NAMES, matchLongName } from './long-names.js'

/**
 * Every curl option the importer knows, and what it does with it. The rule deciding each row:
 * an option that changes the bytes sent (or where they go) is either reproduced (`use`) or
 * refused with an error naming it (`refuse`) — a load test that silently sends something else
 * than the command measures the wrong thing. Options that only change what curl prints, saves
 * or retries are accepted silently (`ignore`) or with a remark in the generated test (`note`)
 * when the run behaves differently in a way worth knowing.
 *
 * | treatment | options |
 * | --- | --- |
 * | use | -X --request, -H --header (also @file), -d --data, --data-ascii, --data-raw, --data-binary, --data-urlencode, --json, -F --form, --form-string, -u --user, --basic, -b --cookie (name=value only), -A --user-agent, -e --referer, -L --location, --location-trusted, -k --insecure, --compressed, -G --get, -I --head, --url, --url-query, -m --max-time, -r --range, --oauth2-bearer, -g --globoff, -: --next, --http1.1, -T --upload-file, --path-as-is; carried by the run command: --http2, --http2-prior-knowledge (--h2c), -E --cert, --key, --cacert, --resolve, --cert-type/--key-type PEM |
 * | ignore | -s -S -v -i -o -O -f -w -D -# -N -R -J -q -Z, --fail-with-body, --fail-early, --trace*, --stderr, --progress-meter, --create-dirs, --remote-name-all, --libcurl, --styled-output, --tcp-nodelay, --tcp-fastopen, --ssl-no-revoke, --ssl-revoke-best-effort, --parallel-max, --parallel-immediate, --clobber, --xattr, --raw, --no-keepalive, --sessionid, --alpn, --npn, --false-start, --suppress-connect-headers, --noproxy |
 * | note | --connect-timeout, --max-redirs, --retry*, --limit-rate, -y/-Y --speed-*, -c --cookie-jar, -j --junk-session-cookies, -4 -6, --tlsv1.x, --tls-max, --ciphers, --keepalive-time, --max-filesize, --post301/302/303, --expect100-timeout, -1 -2 -3, --proto, --proto-redir, --proto-default, --happy-eyeballs-timeout-ms |
 * | refuse | -x --proxy and every --proxy-*, -U, -p, --socks*, --preproxy, --pass, --capath, --crlfile, --pinnedpubkey, -0 --http1.0, --http3, --http3-only, --digest, --ntlm, --ntlm-wb, --negotiate, --anyauth, --aws-sigv4, --delegation, --connect-to, --unix-socket, --abstract-unix-socket, --interface, --local-port, --dns-*, --doh-url, -K --config, -C --continue-at, -z --time-cond, -n --netrc, --netrc-file, --netrc-optional, --request-target, --haproxy-*, --tr-encoding, --variable, --expand-*, --etag-compare, --etag-save, -Q --quote, -a --append, -B --use-ascii, -l --list-only, -t --telnet-option, --ftp-*, --mail-*, --sasl-*, --ssl, --ssl-reqd, -V --version, -h --help, -M --manual, unknown options |
 */
export type Treatment = 'use' | 'ignore' | 'note' | 'refuse'

export interface CurlOption {
  /** Long name without the dashes. */
  readonly name: string
  readonly short: string | undefined
  /** Whether the option consumes a value. */
  readonly arg: boolean
  readonly treatment: Treatment
  /** For `note`: the remark; for `refuse`: why a load test cannot reproduce it. */
  readonly why: string | undefined
}

type Row = readonly [name: string, short: string, arg: boolean, why?: string]

const USE: readonly Row[] = [
  ['request', 'X', true], ['header', 'H', true], ['data', 'd', true], ['data-ascii', '', true],
  ['data-raw', '', true], ['data-binary', '', true], ['data-urlencode', '', true], ['json', '', true],
  ['form', 'F', true], ['form-string', '', true], ['user', 'u', true], ['basic', '', false],
  ['cookie', 'b', true], ['user-agent', 'A', true], ['referer', 'e', true], ['location', 'L', false],
  ['location-trusted', '', false], ['insecure', 'k', false], ['compressed', '', false],
  ['get', 'G', false], ['head', 'I', false], ['url', '', true], ['url-query', '', true],
  ['max-time', 'm', true], ['range', 'r', true], ['oauth2-bearer', '', true], ['globoff', 'g', false],
  ['next', ':', false], ['http1.1', '', false], ['upload-file', 'T', true], ['path-as-is', '', false],
  // Carried by the run command (loads-runner's own flags), not by the test: see runFlags.
  ['http2', '', false], ['http2-prior-knowledge', '', false], ['cert', 'E', true], ['key', '', true],
  ['cacert', '', true], ['resolve', '', true], ['cert-type', '', true], ['key-type', '', true],
]

const IGNORE: readonly Row[] = [
  ['silent', 's', false], ['show-error', 'S', false], ['verbose', 'v', false], ['include', 'i', false],
  ['output', 'o', true], ['remote-name', 'O', false], ['remote-name-all', '', false], ['fail', 'f', false],
  ['fail-with-body', '', false], ['fail-early', '', false], ['write-out', 'w', true],
  ['dump-header', 'D', true], ['trace', '', true], ['trace-ascii', '', true], ['trace-time', '', false],
  ['trace-ids', '', false], ['trace-config', '', true], ['stderr', '', true], ['progress-bar', '#', false],
  ['progress-meter', '', false], ['buffer', 'N', false], ['create-dirs', '', false],
  ['remote-time', 'R', false], ['remote-header-name', 'J', false], ['libcurl', '', true],
  ['disable', 'q', false], ['styled-output', '', false], ['tcp-nodelay', '', false],
  ['tcp-fastopen', '', false], ['ssl-no-revoke', '', false],
  ['ssl-revoke-best-effort', '', false], ['parallel', 'Z', false], ['parallel-max', '', true],
  ['parallel-immediate', '', false], ['clobber', '', false], ['xattr', '', false], ['raw', '', false],
  ['keepalive', '', false], ['sessionid', '', false], ['alpn', '', false], ['npn', '', false],
  ['false-start', '', false], ['suppress-connect-headers', '', false], ['noproxy', '', true],
  ['output-dir', '', true], ['show-headers', '', false],
]

const NOTE: readonly Row[] = [
  ['connect-timeout', '', true, 'the session has one whole-request timeout; the connect timeout is not reproduced'],
  ['max-redirs', '', true, "the session's own redirect limit applies"],
  ['retry', '', true, 'failed requests are recorded, never retried, in a load test'],
  ['retry-delay', '', true, 'failed requests are recorded, never retried, in a load test'],
  ['retry-max-time', '', true, 'failed requests are recorded, never retried, in a load test'],
  ['retry-all-errors', '', false, 'failed requests are recorded, never retried, in a load test'],
  ['retry-connrefused', '', false, 'failed requests are recorded, never retried, in a load test'],
  ['limit-rate', '', true, 'bandwidth is not throttled; shape the load with the run options instead'],
  ['speed-limit', 'Y', true, 'low-speed aborts are not reproduced'],
  ['speed-time', 'y', true, 'low-speed aborts are not reproduced'],
  ['cookie-jar', 'c', true, "cookies are kept in the session's jar, not written to a file"],
  ['junk-session-cookies', 'j', false, "the session's jar starts empty anyway"],
  ['ipv4', '4', false, 'address family is left to the resolver'],
  ['ipv6', '6', false, 'address family is left to the resolver'],
  ['tlsv1', '1', false, 'TLS versions are left to Node.js'],
  ['sslv2', '2', false, 'TLS versions are left to Node.js'],
  ['sslv3', '3', false, 'TLS versions are left to Node.js'],
  ['tlsv1.0', '', false, 'TLS versions are left to Node.js'],
  ['tlsv1.1', '', false, 'TLS versions are left to Node.js'],
  ['tlsv1.2', '', false, 'TLS versions are left to Node.js'],
  ['tlsv1.3', '', false, 'TLS versions are left to Node.js'],
  ['tls-max', '', true, 'TLS versions are left to Node.js'],
  ['ciphers', '', true, 'cipher choice is left to Node.js'],
  ['keepalive-time', '', true, "the session's connection pool decides keep-alive"],
  ['max-filesize', '', true, "not carried over: the run's --max-body limits every response (default 32 MiB)"],
  ['post301', '', false, 'redirects follow the session rules (303 → GET, 307/308 keep the method)'],
  ['post302', '', false, 'redirects follow the session rules (303 → GET, 307/308 keep the method)'],
  ['post303', '', false, 'redirects follow the session rules (303 → GET, 307/308 keep the method)'],
  ['expect100-timeout', '', true, 'the session does not send Expect: 100-continue'],
  ['proto', '', true, 'only http and https are used'],
  ['proto-redir', '', true, 'only http and https are used'],
  ['proto-default', '', true, 'URLs without a scheme are taken as http://'],
  ['happy-eyeballs-timeout-ms', '', true, 'address family is left to the resolver'],
]

const PROXY = 'a proxy changes where requests go; run the load test from a host that reaches the service'
const TLS_ID = 'key passwords, CA directories, CRLs and pinned keys are not supported by the runner; use PEM files with --cert, --key and --cacert'
const PROTOCOL = 'the runner speaks HTTP/1.1 and HTTP/2 only'
const AUTH = 'only HTTP basic auth (-u) is supported; send an Authorization header with -H instead'
const ROUTING = 'changing how the host is resolved or reached is not supported; use the real URL'
const NOT_HTTP = 'not an HTTP request option'
const NOT_REQUEST = 'it does not describe a request'

const REFUSE: readonly Row[] = [
  ['proxy', 'x', true, PROXY], ['proxy-user', 'U', true, PROXY], ['proxytunnel', 'p', false, PROXY],
  ['preproxy', '', true, PROXY], ['socks4', '', true, PROXY], ['socks4a', '', true, PROXY],
  ['socks5', '', true, PROXY], ['socks5-hostname', '', true, PROXY], ['proxy-basic', '', false, PROXY],
  ['proxy-digest', '', false, PROXY], ['proxy-ntlm', '', false, PROXY], ['proxy-negotiate', '', false, PROXY],
  ['proxy-anyauth', '', false, PROXY], ['proxy-insecure', '', false, PROXY], ['proxy-header', '', true, PROXY],
  ['proxy-cacert', '', true, PROXY], ['proxy-cert', '', true, PROXY], ['proxy-key', '', true, PROXY],
  ['proxy-http2', '', false, PROXY], ['proxy1.0', '', true, PROXY],
  ['pass', '', true, TLS_ID],
  ['capath', '', true, TLS_ID], ['crlfile', '', true, TLS_ID], ['pinnedpubkey', '', true, TLS_ID],
  ['http1.0', '0', false, PROTOCOL], ['http3', '', false, PROTOCOL],
  ['http3-only', '', false, PROTOCOL], ['http0.9', '', false, PROTOCOL],
  ['digest', '', false, AUTH], ['ntlm', '', false, AUTH], ['ntlm-wb', '', false, AUTH],
  ['negotiate', '', false, AUTH], ['anyauth', '', false, AUTH], ['aws-sigv4', '', true, AUTH],
  ['delegation', '', true, AUTH], ['sasl-authzid', '', true, AUTH], ['sasl-ir', '', false, AUTH],
  ['login-options', '', true, AUTH],
  ['connect-to', '', true, ROUTING], ['unix-socket', '', true, ROUTING],
  ['abstract-unix-socket', '', true, ROUTING], ['interface', '', true, ROUTING],
  ['local-port', '', true, ROUTING], ['dns-servers', '', true, ROUTING],
  ['dns-interface', '', true, ROUTING], ['dns-ipv4-addr', '', true, ROUTING],
  ['dns-ipv6-addr', '', true, ROUTING], ['doh-url', '', true, ROUTING],
  ['config', 'K', true, 'options read from a config file are not imported; paste them on the command line'],
  ['continue-at', 'C', true, 'resumed transfers are not supported; send a Range header with -H'],
  ['time-cond', 'z', true, 'send an If-Modified-Since header with -H instead'],
  ['netrc', 'n', false, 'credentials from .netrc are not read; use -u user:password'],
  ['netrc-file', '', true, 'credentials from .netrc are not read; use -u user:password'],
  ['netrc-optional', '', false, 'credentials from .netrc are not read; use -u user:password'],
  ['request-target', '', true, 'custom request targets are not supported'],
  ['haproxy-protocol', '', false, ROUTING], ['haproxy-clientip', '', true, ROUTING],
  ['tr-encoding', '', false, 'transfer encodings are not requested by the session'],
  ['variable', '', true, 'curl variables are not expanded; write the values in'],
  ['etag-compare', '', true, 'send an If-None-Match header with -H instead'],
  ['etag-save', '', true, 'ETags are not saved to files'],
  ['quote', 'Q', true, NOT_HTTP], ['append', 'a', false, NOT_HTTP], ['use-ascii', 'B', false, NOT_HTTP],
  ['list-only', 'l', false, NOT_HTTP], ['telnet-option', 't', true, NOT_HTTP], ['crlf', '', false, NOT_HTTP],
  ['ftp-port', 'P', true, NOT_HTTP], ['ftp-pasv', '', false, NOT_HTTP], ['ftp-ssl', '', false, NOT_HTTP],
  ['ftp-create-dirs', '', false, NOT_HTTP], ['mail-from', '', true, NOT_HTTP], ['mail-rcpt', '', true, NOT_HTTP],
  ['mail-auth', '', true, NOT_HTTP], ['ssl', '', false, NOT_HTTP], ['ssl-reqd', '', false, NOT_HTTP],
  ['tftp-blksize', '', true, NOT_HTTP], ['metalink', '', false, NOT_HTTP],
  ['version', 'V', false, NOT_REQUEST], ['help', 'h', false, NOT_REQUEST], ['manual', 'M', false, NOT_REQUEST],
]

function build(): { byName: Map<string, CurlOption>; byShort: Map<string, CurlOption> } {
  const byName = new Map<string, CurlOption>()
  const byShort = new Map<string, CurlOption>()
  const add = (rows: readonly Row[], treatment: Treatment): void => {
    for (const [name, short, arg, why] of rows) {
      const option: CurlOption = { name, short: short === '' ? undefined : short, arg, treatment, why }
      byName.set(name, option)
      if (short !== '') byShort.set(short, option)
    }
  }
  add(USE, 'use')
  add(IGNORE, 'ignore')
  add(NOTE, 'note')
  add(REFUSE, 'refuse')
  return { byName, byShort }
}

const { byName, byShort } = build()

const allNames: ReadonlySet<string> = new Set([...CURL_LONG_NAMES, ...byName.keys()])

/** The option called `--name`, or undefined. */
export function longOption(name: string): CurlOption | undefined {
  return byName.get(name)
}

/**
 * What `--word` means to curl: an exact name, or a unique prefix of one (`--sil` → `--silent`).
 * `option` is undefined for a name curl knows that the importer's table does not.
 */
export function resolveLongOption(word: string): { name: string; option: CurlOption | undefined } | { ambiguous: readonly string[] } | undefined {
  const match = matchLongName(word, allNames)
  if (match.kind === 'none') return undefined
  if (match.kind === 'ambiguous') return { ambiguous: match.names }
  return { name: match.name, option: byName.get(match.name) }
}

/** The option called `-x`, or undefined. */
export function shortOption(letter: string): CurlOption | undefined {
  return byShort.get(letter)
}
