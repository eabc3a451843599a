import { readFileSync } from 'node:fs'
import { basename, resolve } from 'node:path'
import { classifyBody, findHeader, stripFragment } from '../request-spec.js'
import type { RequestSpec } from '../request-spec.js'
import { CurlParseError, describePosition } from './curl-parse-error.js'
import { buildMultipart, guessFileType, parseFormArgument } from './multipart.js'
import type { FormPart } from './multipart.js'
import { longOption, shortOption } from './options.js'
import type { CurlOption } from './options.js'
import { tokenize } from './tokenize.js'
import type { ShellToken } from './tokenize.js'

/** A request read from a curl command: a RequestSpec, nothing more. */
export type CurlRequest = RequestSpec

export interface ParseCurlOptions {
  /** Directory that `@file` paths are relative to. Defaults to the process's working directory. */
  cwd?: string
  /** Reads an `@file`; injectable for tests. Defaults to fs.readFileSync. */
  readFile?: (path: string) => Uint8Array
  /** Hears about things accepted but not reproduced (also kept as `notes` on the request). */
  onWarning?: (message: string) => void
}

/**
 * Turns one or more curl commands (several lines of "Copy all as cURL" work too) into requests,
 * one per URL, in order. Follows curl's own rules: data makes a POST, -G moves it to the query,
 * -I makes a HEAD, -X overrides both; -d joins pieces with `&` and strips CR/LF from @files;
 * redirects are followed only with -L. Throws CurlParseError for text that is not curl, bad
 * quoting, or an option that would change the request in a way we cannot reproduce.
 */
export function parseCurl(command: string, options: ParseCurlOptions = {}): CurlRequest[] {
  const { tokens, warnings } = tokenize(command)
  const warn = (message: string): void => options.onWarning?.(message)
  for (const message of warnings) warn(message)

  const requests: CurlRequest[] = []
  let commands = 0
  for (const all of splitCommands(tokens, command, warn)) {
    // A pasted prompt (`$ curl …`) or environment assignments (`TOKEN=x curl …`) before curl.
    let skip = 0
    while (skip < all.length - 1 && /^(?:\$|%|[A-Za-z_][A-Za-z0-9_]*=.*)$/s.test(all[skip]?.value ?? '')) skip++
    const words = all.slice(skip)
    if (words.length === 0) continue
    const first = words[0] as ShellToken
    if (!/^(?:.*[/\\])?curl(?:\.exe)?$/i.test(first.value)) {
      const hint =
        commands > 0 && first.value.startsWith('-')
          ? ' — did the line before it lose its trailing backslash (\\) continuation?'
          : ''
      throw new CurlParseError(
        `not a curl command: ${describePosition(command, first.position)} starts with ` +
          `${JSON.stringify(first.value.slice(0, 40))}${hint}`,
        { position: first.position },
      )
    }
    commands++
    const reader = new CommandReader(command, options)
    for (const request of reader.read(words.slice(1))) {
      // Unexpanded $VARIABLES end up in the generated code: say so there too.
      if (warnings.length > 0) request.notes = [...warnings, ...(request.notes ?? [])]
      requests.push(request)
    }
  }
  if (commands === 0) throw new CurlParseError('not a curl command: the text is empty')
  return requests
}

/** Cuts the token stream into simple commands; drops pipes' right-hand sides and redirections. */
function splitCommands(
  tokens: readonly ShellToken[],
  input: string,
  warn: (message: string) => void,
): ShellToken[][] {
  const commands: ShellToken[][] = [[]]
  let skipping = false
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i] as ShellToken
    if (token.kind === 'word') {
      if (!skipping) commands[commands.length - 1]?.push(token)
      continue
    }
    if (['\n', ';', '&&', '||', '&'].includes(token.value)) {
      commands.push([])
      skipping = false
    } else if (token.value === '|') {
      warn(`ignored the pipe at ${describePosition(input, token.position)} and what follows it`)
      skipping = true
    } else {
      // A redirection (`> out.json`, `2>&1`): its target is the next word.
      if (tokens[i + 1]?.kind === 'word') i++
    }
  }
  return commands
}

/** Everything one curl "operation" (up to --next) says about its requests. */
interface Operation {
  urls: { url: string; position: number }[]
  method: string | undefined
  headers: [string, string | null][]
  data: Buffer[]
  dataSeen: boolean
  json: boolean
  form: FormPart[]
  user: string | undefined
  cookies: [string, string][]
  userAgent: string | undefined
  referer: string | undefined
  range: string | undefined
  bearer: string | undefined
  query: string[]
  location: boolean
  insecure: boolean
  compressed: boolean
  get: boolean
  head: boolean
  globoff: boolean
  timeoutMs: number | undefined
  notes: string[]
}

function newOperation(): Operation {
  return {
    urls: [], method: undefined, headers: [], data: [], dataSeen: false, json: false, form: [],
    user: undefined, cookies: [], userAgent: undefined, referer: undefined, range: undefined,
    bearer: undefined, query: [], location: false, insecure: false, compressed: false, get: false,
    head: false, globoff: false, timeoutMs: undefined, notes: [],
  }
}

class CommandReader {
  private readonly operations: Operation[] = [newOperation()]

  constructor(
    private readonly input: string,
    private readonly options: ParseCurlOptions,
  ) {}

  private get op(): Operation {
    return this.operations[this.operations.length - 1] as Operation
  }

  read(words: readonly ShellToken[]): CurlRequest[] {
    let optionsEnded = false
    for (let i = 0; i < words.length; i++) {
      const word = words[i] as ShellToken
      const text = word.value
      if (optionsEnded || !text.startsWith('-') || text === '-') {
        this.op.urls.push({ url: text, position: word.position })
        continue
      }
      if (text === '--') {
        optionsEnded = true
        continue
      }
      const takeNext = (flag: string): string => {
        const next = words[i + 1]
        if (next === undefined) {
          throw new CurlParseError(`curl option ${flag} needs a value`, { option: flag, position: word.position })
        }
        i++
        return next.value
      }
      if (text.startsWith('--')) {
        this.readLong(text, takeNext, word.position)
      } else {
        this.readShortCluster(text, takeNext, word.position)
      }
    }
    return this.operations.flatMap((operation) => this.finish(operation))
  }

  private readLong(text: string, takeNext: (flag: string) => string, position: number): void {
    let name = text.slice(2)
    let inline: string | undefined
    let toggle = true
    let option = longOption(name)
    if (option === undefined && name.includes('=')) {
      // curl itself wants `--opt value`; `--opt=value` is accepted here for convenience.
      const eq = name.indexOf('=')
      const candidate = longOption(name.slice(0, eq))
      if (candidate?.arg === true) {
        option = candidate
        inline = name.slice(eq + 1)
        name = candidate.name
      }
    }
    if (option === undefined && name.startsWith('no-')) {
      const positive = longOption(name.slice(3))
      if (positive !== undefined && !positive.arg) {
        option = positive
        toggle = false
      }
    }
    if (option === undefined) {
      if (name.startsWith('expand-')) this.refuse(`--${name}`, 'curl variables are not expanded; write the values in', position)
      throw new CurlParseError(`unknown curl option --${name}: it is not supported by the importer`, {
        option: `--${name}`,
        position,
      })
    }
    const flag = `--${option.name}`
    const value = option.arg ? (inline ?? takeNext(flag)) : undefined
    this.apply(option, flag, value, toggle, position)
  }

  private readShortCluster(text: string, takeNext: (flag: string) => string, position: number): void {
    for (let j = 1; j < text.length; j++) {
      const letter = text[j] as string
      const option = shortOption(letter)
      if (option === undefined) {
        throw new CurlParseError(`unknown curl option -${letter}${text.length > 2 ? ` (in ${text})` : ''}`, {
          option: `-${letter}`,
          position,
        })
      }
      const flag = `-${letter}`
      if (option.arg) {
        const rest = text.slice(j + 1)
        this.apply(option, flag, rest !== '' ? rest : takeNext(flag), true, position)
        return
      }
      this.apply(option, flag, undefined, true, position)
    }
  }

  private refuse(flag: string, why: string, position: number): never {
    throw new CurlParseError(`curl option ${flag} is not supported: ${why}`, { option: flag, position })
  }

  private note(message: string): void {
    this.op.notes.push(message)
    this.options.onWarning?.(message)
  }

  private apply(option: CurlOption, flag: string, value: string | undefined, on: boolean, position: number): void {
    const arg = value ?? ''
    switch (option.treatment) {
      case 'refuse':
        this.refuse(flag, option.why ?? 'it changes the request', position)
        break
      case 'ignore':
        return
      case 'note':
        this.note(`${flag} ignored: ${option.why ?? ''}`)
        return
      case 'use':
        break
    }
    const op = this.op
    switch (option.name) {
      case 'request':
        op.method = arg
        break
      case 'header':
        this.addHeaders(arg, flag)
        break
      case 'data':
      case 'data-ascii':
        this.addData(arg.startsWith('@') ? stripNewlines(this.readFile(arg.slice(1), flag)) : Buffer.from(arg), '&')
        break
      case 'data-raw':
        this.addData(Buffer.from(arg), '&')
        break
      case 'data-binary':
        this.addData(arg.startsWith('@') ? Buffer.from(this.readFile(arg.slice(1), flag)) : Buffer.from(arg), '&')
        break
      case 'data-urlencode':
        this.addData(Buffer.from(this.urlencodeArgument(arg, flag)), '&')
        break
      case 'json':
        this.addData(arg.startsWith('@') ? Buffer.from(this.readFile(arg.slice(1), flag)) : Buffer.from(arg), '')
        op.json = true
        break
      case 'form':
      case 'form-string':
        op.form.push(this.formPart(arg, flag, option.name === 'form-string'))
        break
      case 'user':
        op.user = arg
        break
      case 'basic':
        break
      case 'cookie':
        this.addCookies(arg, flag)
        break
      case 'user-agent':
        op.userAgent = arg
        break
      case 'referer':
        op.referer = arg.replace(/;auto$/, '')
        break
      case 'location':
        op.location = on
        break
      case 'location-trusted':
        op.location = on
        this.note(`${flag}: redirects are followed; whether credentials go to other hosts is the session's rule`)
        break
      case 'insecure':
        op.insecure = on
        break
      case 'compressed':
        op.compressed = on
        break
      case 'get':
        op.get = on
        break
      case 'head':
        op.head = on
        break
      case 'url':
        op.urls.push({ url: arg, position })
        break
      case 'url-query':
        op.query.push(arg.startsWith('+') ? arg.slice(1) : this.urlencodeArgument(arg, flag))
        break
      case 'max-time':
        op.timeoutMs = parseSeconds(arg, flag)
        break
      case 'range':
        op.range = arg
        break
      case 'oauth2-bearer':
        op.bearer = arg
        break
      case 'globoff':
        op.globoff = on
        break
      case 'next':
        this.operations.push(newOperation())
        break
      case 'http1.1':
        break
      default:
        throw new CurlParseError(`curl option ${flag} is not handled`, { option: flag, position })
    }
  }

  private addHeaders(arg: string, flag: string): void {
    if (arg.startsWith('@')) {
      const text = Buffer.from(this.readFile(arg.slice(1), flag)).toString('utf8')
      for (const line of text.split(/\r?\n/)) if (line.trim() !== '') this.addHeader(line, flag)
      return
    }
    this.addHeader(arg, flag)
  }

  /** `Name: value` adds, `Name:` removes a header curl would add, `Name;` sends it empty. */
  private addHeader(line: string, flag: string): void {
    const colon = line.indexOf(':')
    if (colon > 0) {
      const name = line.slice(0, colon).trim()
      const value = line.slice(colon + 1).trim()
      const lower = name.toLowerCase()
      if (lower === 'content-length') {
        this.note(`${flag} ${name} dropped: the session computes the length of what it sends`)
        return
      }
      if (HOP_BY_HOP.has(lower)) {
        // The connection pool owns these (undici rejects most of them); keep-alive is its default.
        if (value.toLowerCase() !== 'keep-alive') this.note(`${flag} ${name}: ${value} dropped: the connection pool decides`)
        return
      }
      this.op.headers.push([name, value === '' ? null : value])
      return
    }
    const semi = line.indexOf(';')
    if (semi > 0 && line.slice(semi + 1).trim() === '') {
      this.op.headers.push([line.slice(0, semi).trim(), ''])
      return
    }
    throw new CurlParseError(`${flag} ${JSON.stringify(line)}: a header needs "Name: value"`, { option: flag })
  }

  private addData(bytes: Buffer, separator: '&' | ''): void {
    const op = this.op
    const length = op.data.reduce((sum, piece) => sum + piece.length, 0)
    if (separator !== '' && length > 0) op.data.push(Buffer.from(separator))
    op.data.push(bytes)
    op.dataSeen = true
  }

  /** curl's --data-urlencode forms: content, =content, name=content, @file, name@file. */
  private urlencodeArgument(arg: string, flag: string): string {
    let at = arg.indexOf('=')
    if (at === -1) at = arg.indexOf('@')
    if (at === -1) return curlEscape(Buffer.from(arg))
    const name = arg.slice(0, at)
    const content =
      arg[at] === '@' ? Buffer.from(this.readFile(arg.slice(at + 1), flag)) : Buffer.from(arg.slice(at + 1))
    const encoded = curlEscape(content)
    return name === '' ? encoded : `${name}=${encoded}`
  }

  private formPart(arg: string, flag: string, literal: boolean): FormPart {
    if (literal) {
      const eq = arg.indexOf('=')
      if (eq <= 0) throw new CurlParseError(`${flag} ${JSON.stringify(arg)}: expected name=value`, { option: flag })
      return { name: arg.slice(0, eq), content: Buffer.from(arg.slice(eq + 1)) }
    }
    const { spec, warnings } = parseFormArgument(arg, flag)
    for (const message of warnings) this.note(message)
    const part: FormPart = { name: spec.name, content: Buffer.from(spec.value) }
    if (spec.source !== 'text') part.content = this.readFile(spec.value, flag)
    if (spec.source === 'file') {
      part.filename = basename(spec.value)
      part.contentType = guessFileType(spec.value)
    }
    if (spec.filename !== undefined) part.filename = spec.filename
    if (spec.type !== undefined) part.contentType = spec.type
    return part
  }

  private addCookies(arg: string, flag: string): void {
    if (!arg.includes('=')) {
      throw new CurlParseError(
        `curl option ${flag} ${JSON.stringify(arg)} reads cookies from a file, which is not supported: ` +
          `pass them inline as ${flag} 'name=value; other=value'`,
        { option: flag },
      )
    }
    for (const pair of arg.split(';')) {
      const trimmed = pair.trim()
      if (trimmed === '') continue
      const eq = trimmed.indexOf('=')
      if (eq <= 0) {
        this.note(`${flag}: ignored ${JSON.stringify(trimmed)}, not a name=value cookie`)
        continue
      }
      this.op.cookies.push([trimmed.slice(0, eq), trimmed.slice(eq + 1)])
    }
  }

  private readFile(path: string, flag: string): Buffer {
    if (path === '-') {
      throw new CurlParseError(`curl option ${flag} @- reads standard input, which an imported test cannot do`, {
        option: flag,
      })
    }
    const full = resolve(this.options.cwd ?? process.cwd(), path)
    try {
      return Buffer.from((this.options.readFile ?? readFileSync)(full))
    } catch (error) {
      const reason = error instanceof Error && 'code' in error ? String(error.code) : String(error)
      throw new CurlParseError(
        `curl option ${flag} needs the file ${JSON.stringify(path)} (${reason}): its content is embedded ` +
          'in the generated test, so it must exist when importing',
        { option: flag },
      )
    }
  }

  private finish(op: Operation): CurlRequest[] {
    if (op.urls.length === 0) {
      if (this.operations.length > 1 && op === this.operations[this.operations.length - 1] && isEmpty(op)) return []
      throw new CurlParseError('the curl command has no URL')
    }
    if (op.form.length > 0 && op.dataSeen) {
      throw new CurlParseError('curl refuses to mix -F (multipart) with -d (data) in one request; so do we', {
        option: '-F',
      })
    }
    if (op.head && op.dataSeen && !op.get) {
      throw new CurlParseError('-I (HEAD) and -d (POST data) conflict, as curl says; add -G to send the data in the query', {
        option: '-I',
      })
    }
    if (op.get && op.form.length > 0) {
      throw new CurlParseError('-G cannot move a multipart -F form into the query', { option: '-G' })
    }
    return op.urls.map(({ url, position }) => this.request(op, url, position))
  }

  private request(op: Operation, rawUrl: string, position: number): CurlRequest {
    let url = this.checkUrl(rawUrl, position, op.globoff)
    const queryParts = [...op.query]
    if (op.get && op.dataSeen) queryParts.push(Buffer.concat(op.data).toString('utf8'))
    const query = queryParts.filter((part) => part !== '').join('&')
    if (query !== '') url += (url.includes('?') ? (url.endsWith('?') || url.endsWith('&') ? '' : '&') : '?') + query

    let method = 'GET'
    if (op.head) method = 'HEAD'
    else if ((op.dataSeen && !op.get) || op.form.length > 0) method = 'POST'
    if (op.method !== undefined) method = op.method

    // Headers curl adds by itself; -H entries override or (with an empty value) remove them.
    const internal: [string, string][] = []
    if (op.bearer !== undefined) internal.push(['Authorization', `Bearer ${op.bearer}`])
    if (op.userAgent !== undefined && op.userAgent !== '') internal.push(['User-Agent', op.userAgent])
    if (op.referer !== undefined && op.referer !== '') internal.push(['Referer', op.referer])
    if (op.range !== undefined) internal.push(['Range', `bytes=${op.range}`])
    if (op.compressed) internal.push(['Accept-Encoding', 'gzip, deflate, br'])

    let body: Buffer | undefined
    if (op.form.length > 0) {
      const multipart = buildMultipart(op.form)
      body = multipart.body
      internal.push(['Content-Type', `multipart/form-data; boundary=${multipart.boundary}`])
    } else if (op.dataSeen && !op.get) {
      body = Buffer.concat(op.data)
      if (op.json) internal.push(['Content-Type', 'application/json'], ['Accept', 'application/json'])
      else internal.push(['Content-Type', 'application/x-www-form-urlencoded'])
    }

    const headers: Record<string, string> = {}
    const removed = new Set<string>()
    for (const [name, value] of op.headers) {
      const existing = findHeader(headers, name)
      if (value === null) {
        if (existing !== undefined) delete headers[existing]
        removed.add(name.toLowerCase())
      } else if (existing !== undefined) {
        const separator = name.toLowerCase() === 'cookie' ? '; ' : ', '
        headers[existing] = `${headers[existing] ?? ''}${separator}${value}`
      } else {
        headers[name] = value
      }
    }
    for (const [name, value] of internal) {
      const existing = findHeader(headers, name)
      if (removed.has(name.toLowerCase())) continue
      if (existing === undefined) headers[name] = value
      else if (name === 'Content-Type' && op.form.length > 0 && !/boundary=/i.test(headers[existing] ?? '')) {
        // As curl does: a custom multipart type without a boundary gets ours appended.
        headers[existing] = `${headers[existing] ?? ''}; ${value.slice(value.indexOf('boundary='))}`
      }
    }

    const spec: CurlRequest = {
      method,
      url,
      headers,
      body: body === undefined ? { kind: 'none' } : classifyBody(body, headerOf(headers, 'content-type')),
      allowRedirects: op.location,
      insecure: op.insecure,
    }
    if (op.user !== undefined) spec.auth = splitUser(op.user)
    if (op.timeoutMs !== undefined) spec.timeoutMs = op.timeoutMs
    if (op.cookies.length > 0) spec.cookies = op.cookies.map(([name, value]) => [name, value] as const)
    const notes = [...op.notes]
    if (op.compressed) notes.push('--compressed: asks for compressed responses; the session decodes them')
    if (op.insecure) notes.push('-k: TLS certificates are not verified (static insecure = true)')
    if (notes.length > 0) spec.notes = notes
    return spec
  }

  private checkUrl(raw: string, position: number, globoff: boolean): string {
    let url = raw.trim()
    const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(url)?.[1]
    if (scheme === undefined) url = `http://${url}`
    else if (!/^https?$/i.test(scheme)) {
      throw new CurlParseError(`${JSON.stringify(raw)}: only http:// and https:// URLs can be load-tested`, { position })
    }
    try {
      new URL(url)
    } catch {
      throw new CurlParseError(
        `${JSON.stringify(raw)} at ${describePosition(this.input, position)} is not a URL (an option's value missing?)`,
        { position },
      )
    }
    const afterHost = url.replace(/^[a-z]+:\/\/(?:\[[^\]]*\])?/i, '')
    if (!globoff && /\{[^{}]*,[^{}]*\}|\[[0-9a-z]+-[0-9a-z]+(?::\d+)?\]/i.test(afterHost)) {
      this.note(`${raw}: curl would expand this URL glob; it is sent literally (add -g to say so)`)
    }
    return stripFragment(url)
  }
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade'])

function isEmpty(op: Operation): boolean {
  return op.urls.length === 0 && op.headers.length === 0 && !op.dataSeen && op.form.length === 0
}

function headerOf(headers: Record<string, string>, name: string): string | undefined {
  const key = findHeader(headers, name)
  return key === undefined ? undefined : headers[key]
}

function splitUser(user: string): readonly [string, string] {
  const colon = user.indexOf(':')
  if (colon === -1) {
    throw new CurlParseError(
      `-u ${JSON.stringify(user)} has no password: curl would prompt for it; write -u '${user}:password'`,
      { option: '-u' },
    )
  }
  return [user.slice(0, colon), user.slice(colon + 1)]
}

function parseSeconds(text: string, flag: string): number {
  const seconds = Number(text)
  if (text.trim() === '' || !Number.isFinite(seconds) || seconds < 0) {
    throw new CurlParseError(`curl option ${flag} expects seconds, got ${JSON.stringify(text)}`, { option: flag })
  }
  return Math.round(seconds * 1000)
}

/** curl's -d @file: carriage returns and newlines are removed. */
function stripNewlines(bytes: Uint8Array): Buffer {
  return Buffer.from(Buffer.from(bytes).filter((byte) => byte !== 0x0a && byte !== 0x0d))
}

/**
 * curl_easy_escape, then spaces as `+` (what --data-urlencode sends since curl 7.86): every byte
 * except A–Z a–z 0–9 - . _ ~ is percent-encoded.
 */
export function curlEscape(bytes: Uint8Array): string {
  let out = ''
  for (const byte of bytes) {
    if (
      (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a) ||
      byte === 0x2d || byte === 0x2e || byte === 0x5f || byte === 0x7e
    ) out += String.fromCharCode(byte)
    else if (byte === 0x20) out += '+'
    else out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`
  }
  return out
}
