/**
 * Every long option curl 7.88 knows (its `--help all`, booleans under their positive name, plus
 * the hidden aliases it still accepts), used only to resolve abbreviations as curl does: curl
 * takes a unique prefix of a long option (`--sil` is `--silent`) and refuses an ambiguous one
 * (`--compr` could be `--compressed` or `--compressed-ssh`). The importer's own table knows fewer
 * options, so ambiguity is judged against this list, not against that table.
 */
export const CURL_LONG_NAMES: readonly string[] = `abstract-unix-socket alpn alt-svc anyauth append aws-sigv4 basic buffer cacert capath cert
cert-status cert-type ciphers clobber compressed compressed-ssh config connect-timeout connect-to continue-at cookie
cookie-jar create-dirs create-file-mode crlf crlfile curves data data-ascii data-binary data-raw data-urlencode delegation
digest disable disable-eprt disable-epsv disallow-username-in-url dns-interface dns-ipv4-addr dns-ipv6-addr dns-servers
doh-cert-status doh-insecure doh-url dump-header egd-file engine etag-compare etag-save expect100-timeout fail fail-early
fail-with-body false-start form form-escape form-string ftp-account ftp-alternative-to-user ftp-create-dirs ftp-method
ftp-pasv ftp-port ftp-pret ftp-skip-pasv-ip ftp-ssl ftp-ssl-ccc ftp-ssl-ccc-mode ftp-ssl-control ftp-ssl-reqd get globoff
happy-eyeballs-timeout-ms haproxy-clientip haproxy-protocol head header help hostpubmd5 hostpubsha256 hsts http0.9 http1.0
http1.1 http2 http2-prior-knowledge http3 http3-only ignore-content-length include insecure interface ipv4 ipv6 json
junk-session-cookies keepalive keepalive-time key key-type krb krb4 libcurl limit-rate list-only local-port location
location-trusted login-options mail-auth mail-from mail-rcpt mail-rcpt-allowfails manual max-filesize max-redirs max-time
metalink negotiate netrc netrc-file netrc-optional next noproxy npn ntlm ntlm-wb oauth2-bearer output output-dir parallel
parallel-immediate parallel-max pass path-as-is pinnedpubkey post301 post302 post303 preproxy progress-bar progress-meter
proto proto-default proto-redir proxy proxy-anyauth proxy-basic proxy-cacert proxy-capath proxy-cert proxy-cert-type
proxy-ciphers proxy-crlfile proxy-digest proxy-header proxy-insecure proxy-key proxy-key-type proxy-negotiate proxy-ntlm
proxy-pass proxy-pinnedpubkey proxy-service-name proxy-ssl-allow-beast proxy-ssl-auto-client-cert proxy-tls13-ciphers
proxy-tlsauthtype proxy-tlspassword proxy-tlsuser proxy-tlsv1 proxy-user proxy1.0 proxytunnel pubkey quote random-file
range rate raw referer remote-header-name remote-name remote-name-all remote-time remove-on-error request request-target
resolve retry retry-all-errors retry-connrefused retry-delay retry-max-time sasl-authzid sasl-ir service-name sessionid
show-error silent socks4 socks4a socks5 socks5-basic socks5-gssapi socks5-gssapi-nec socks5-gssapi-service socks5-hostname
speed-limit speed-time ssl ssl-allow-beast ssl-auto-client-cert ssl-no-revoke ssl-reqd ssl-revoke-best-effort sslv2 sslv3
stderr styled-output suppress-connect-headers tcp-fastopen tcp-nodelay telnet-option tftp-blksize tftp-no-options
time-cond tls-max tls13-ciphers tlsauthtype tlspassword tlsuser tlsv1 tlsv1.0 tlsv1.1 tlsv1.2 tlsv1.3 tr-encoding trace
trace-ascii trace-time unix-socket upload-file url url-query use-ascii user user-agent verbose version write-out xattr`
  .split(/\s+/)

/** What a `--word` stands for in curl: one option, several (ambiguous), or none. */
export type LongNameMatch =
  | { readonly kind: 'exact' | 'prefix'; readonly name: string }
  | { readonly kind: 'ambiguous'; readonly names: readonly string[] }
  | { readonly kind: 'none' }

/**
 * curl's rule: an exact name wins; otherwise a prefix of exactly one name stands for it; a
 * prefix of several is an error. `names` is every name known (curl's and the importer's).
 */
export function matchLongName(word: string, names: ReadonlySet<string>): LongNameMatch {
  if (names.has(word)) return { kind: 'exact', name: word }
  if (word === '') return { kind: 'none' }
  const hits: string[] = []
  for (const name of names) if (name.startsWith(word)) hits.push(name)
  if (hits.length === 1) return { kind: 'prefix', name: hits[0] as string }
  if (hits.length > 1) return { kind: 'ambiguous', names: hits.sort() }
  return { kind: 'none' }
}
