import { readFileSync } from 'node:fs'
import { basename, resolve } from 'node:path'
import type { RequestSpec } from '../request-spec.js'
import { CurlParseError, describePosition } from './curl-parse-error.js'
import { guessFileType, parseFormArgument } from './multipart.js'
import type { FormPart } from './multipart.js'
import { newOperation, toRequests } from './operation.js'
import type { Operation } from './operation.js'
import { longOption, shortOption } from './options.js'
import type { CurlOption } from './options.js'
import { tokenize, wordBytes } from './tokenize.js'
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
  let firstOther: ShellToken | undefined
  for (const all of splitCommands(tokens, command, warn)) {
    // A pasted prompt (`$ curl …`) or environment assignments (`TOKEN=x curl …`) before curl.
    let skip = 0
    while (skip < all.length - 1 && /^(?:\$|%|[A-Za-z_][A-Za-z0-9_]*=.*)$/s.test(all[skip]?.value ?? '')) skip++
    const words = all.slice(skip)
    if (words.length === 0) continue
    const first = words[0] as ShellToken
    if (!/^(?:.*[/\\])?curl(?:\.exe)?$/i.test(first.value)) {
      if (first.value.startsWith('-') && skip === 0) {
        throw new CurlParseError(
          `${describePosition(command, first.position)} starts with the option ${JSON.stringify(first.value)} ` +
            'outside any curl command: did the line before it lose its trailing backslash (\\) continuation?',
          { position: first.position, option: first.value },
        )
      }
      // Docs often surround curl with other shell lines (`export TOKEN=…`, `&& echo ok`).
      firstOther ??= first
      warn(`skipped ${JSON.stringify(words.map((word) => word.value).join(' ').slice(0, 60))}: not a curl command`)
      continue
    }
    commands++
    const reader = new CommandReader(command, options)
    for (const request of reader.read(words.slice(1))) {
      // Unexpanded $VARIABLES end up in the generated code: say so there too.
      if (warnings.length > 0) request.notes = [...warnings, ...(request.notes ?? [])]
      requests.push(request)
    }
  }
  if (commands === 0) {
    throw new CurlParseError(
      firstOther === undefined
        ? 'not a curl command: the text is empty'
        : `not a curl command: ${describePosition(command, firstOther.position)} starts with ` +
            `${JSON.stringify(firstOther.value.slice(0, 40))}`,
      firstOther === undefined ? {} : { position: firstOther.position },
    )
  }
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
    const last = this.operations[this.operations.length - 1]
    return this.operations.flatMap((operation) =>
      toRequests(operation, {
        input: this.input,
        note: (message) => this.noteOn(operation, message),
        trailing: this.operations.length > 1 && operation === last,
      }),
    )
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
    this.noteOn(this.op, message)
  }

  private noteOn(operation: Operation, message: string): void {
    operation.notes.push(message)
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
        this.addData(arg.startsWith('@') ? stripNewlines(this.readFile(arg.slice(1), flag)) : wordBytes(arg), '&')
        break
      case 'data-raw':
        this.addData(wordBytes(arg), '&')
        break
      case 'data-binary':
        this.addData(arg.startsWith('@') ? this.readFile(arg.slice(1), flag) : wordBytes(arg), '&')
        break
      case 'data-urlencode':
        this.addData(Buffer.from(this.urlencodeArgument(arg, flag)), '&')
        break
      case 'json':
        this.addData(arg.startsWith('@') ? this.readFile(arg.slice(1), flag) : wordBytes(arg), '')
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
    if (at === -1) return curlEscape(wordBytes(arg))
    const name = arg.slice(0, at)
    const content =
      arg[at] === '@' ? this.readFile(arg.slice(at + 1), flag) : wordBytes(arg.slice(at + 1))
    const encoded = curlEscape(content)
    return name === '' ? encoded : `${name}=${encoded}`
  }

  private formPart(arg: string, flag: string, literal: boolean): FormPart {
    if (literal) {
      const eq = arg.indexOf('=')
      if (eq <= 0) throw new CurlParseError(`${flag} ${JSON.stringify(arg)}: expected name=value`, { option: flag })
      return { name: arg.slice(0, eq), content: wordBytes(arg.slice(eq + 1)) }
    }
    const { spec, warnings } = parseFormArgument(arg, flag)
    for (const message of warnings) this.note(message)
    const part: FormPart = { name: spec.name, content: wordBytes(spec.value) }
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

}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade'])

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
