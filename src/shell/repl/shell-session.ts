import { NetworkError } from '../../http/errors.js'
import { encodeBody, encodeFields, normalizeMethod, type RequestOptions } from '../../http/request-options.js'
import type { Response } from '../../http/response.js'
import { DEFAULT_HEADERS, Session, type SessionOptions } from '../../http/session.js'
import { classifyBody, type RequestSpec } from '../request-spec.js'

/** A request made in the shell, as `.save` and `.run` replay it. */
export interface ShellRequest {
  spec: RequestSpec
  /** The status the server answered (after redirects); undefined when the request failed. */
  status: number | undefined
}

/**
 * The shell's `session`: a Session that also writes down every request made through it, from a
 * short command or from JavaScript alike, as a RequestSpec with the status it got. The spec
 * carries the session headers that differ from the defaults at the time of the call, so a replay
 * in a fresh session sends the same headers.
 */
export class ShellSession extends Session {
  /** Every request made, in the order they completed. */
  readonly recorded: ShellRequest[] = []
  readonly #insecure: boolean

  constructor(options: SessionOptions) {
    super(options)
    this.#insecure = options.insecure ?? false
  }

  override get(url: string, options?: RequestOptions): Promise<Response> {
    return this.#track('GET', url, options, super.get(url, options))
  }

  override post(url: string, options?: RequestOptions): Promise<Response> {
    return this.#track('POST', url, options, super.post(url, options))
  }

  override put(url: string, options?: RequestOptions): Promise<Response> {
    return this.#track('PUT', url, options, super.put(url, options))
  }

  override patch(url: string, options?: RequestOptions): Promise<Response> {
    return this.#track('PATCH', url, options, super.patch(url, options))
  }

  override delete(url: string, options?: RequestOptions): Promise<Response> {
    return this.#track('DELETE', url, options, super.delete(url, options))
  }

  override head(url: string, options?: RequestOptions): Promise<Response> {
    return this.#track('HEAD', url, { allowRedirects: false, ...options }, super.head(url, options))
  }

  override options(url: string, options?: RequestOptions): Promise<Response> {
    return this.#track('OPTIONS', url, options, super.options(url, options))
  }

  override request(method: string, url: string, options?: RequestOptions): Promise<Response> {
    return this.#track(normalizeMethod(method), url, options, super.request(method, url, options))
  }

  #track(method: string, url: string, options: RequestOptions | undefined, sent: Promise<Response>): Promise<Response> {
    let spec: RequestSpec
    try {
      spec = this.#spec(method, url, options ?? {})
    } catch {
      // The session refuses the same input; its promise says why.
      return sent
    }
    return sent.then(
      (response) => {
        this.recorded.push({ spec, status: response.status })
        return response
      },
      (err: unknown) => {
        // Sent but unanswered (refused, timed out): replayed, with no status to assert.
        if (err instanceof NetworkError) this.recorded.push({ spec, status: undefined })
        throw err
      },
    )
  }

  #spec(method: string, url: string, options: RequestOptions): RequestSpec {
    const target = new URL(url, this.baseUrl)
    if (options.params !== undefined) {
      const query = encodeFields(options.params)
      if (query !== '') target.search = target.search === '' ? `?${query}` : `${target.search}&${query}`
    }
    target.hash = ''
    const headers: Record<string, string> = {}
    for (const [name, value] of Object.entries(this.headers)) {
      if (DEFAULT_HEADERS[name.toLowerCase()] !== value) headers[name] = value
    }
    for (const [name, value] of Object.entries(options.headers ?? {})) {
      if (value !== null) headers[name] = typeof value === 'string' ? value : value.join(', ')
    }
    const lower: Record<string, string> = {}
    for (const [name, value] of Object.entries(headers)) lower[name.toLowerCase()] = value
    const given = lower['content-type']
    const bytes = encodeBody(options, lower)
    const body = bytes === null ? ({ kind: 'none' } as const) : classifyBody(bytes, lower['content-type'])
    // `json:` and `data:` set the content type the session chose here; any other body needs it said.
    if (given === undefined && lower['content-type'] !== undefined && body.kind !== 'json' && body.kind !== 'form') {
      headers['content-type'] = lower['content-type']
    }
    const spec: RequestSpec = {
      method,
      url: target.href,
      headers,
      body,
      allowRedirects: options.allowRedirects ?? true,
      insecure: this.#insecure,
    }
    if (options.auth !== undefined) spec.auth = [options.auth[0], options.auth[1]]
    if (options.timeout !== undefined) spec.timeoutMs = options.timeout
    if (options.name !== undefined) spec.name = options.name
    return spec
  }
}
