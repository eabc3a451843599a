/**
 * An error of the HTTP/1.1 client, with undici's code for the same failure (`UND_ERR_…`), or
 * llhttp's for a malformed response (`HPE_…`), so `classify-network-error` reads both clients'
 * failures the same way (every `HPE_` code is kind PROTOCOL).
 */
export class H1Error extends Error {
  readonly code: string
  constructor(code: string, message: string) {
    super(message)
    this.name = code.startsWith('HPE_') ? 'HTTPParserError' : 'H1Error'
    this.code = code
  }
}
