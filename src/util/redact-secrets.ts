/**
 * Secrets out of every output: a URL's userinfo (`https://user:pass@host`) and the values of
 * query parameters whose names look secret (token, key, secret, password, sig, signature, code,
 * auth — `?access_token=…`, `&X-Amz-Signature=…`) become `***`. Applied where test errors enter
 * the stats (Recorder.recordTest), so the console, the page, JSON, CSV and JUnit never see them.
 */

const SECRET_NAMES = 'token|key|secret|password|passwd|pwd|sig|signature|code|auth'
const SECRET_PARAM = new RegExp(`([?&;][^=&#\\s"'<>]*?(?:${SECRET_NAMES})[^=&#\\s"'<>]*=)[^&#\\s"'<>]+`, 'gi')
const USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^/\s@"'<>?#]+@/gi

/** `text` with URL userinfo and secret-looking query values replaced by `***`. */
export function redactSecrets(text: string): string {
  if (!text.includes('=') && !text.includes('@')) return text
  return text.replace(USERINFO, '$1***@').replace(SECRET_PARAM, '$1***')
}
