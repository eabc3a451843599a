import { basename } from 'node:path'
import type { RequestSpec } from '../request-spec.js'
import { CurlParseError } from './curl-parse-error.js'
import { readLocalFile } from './local-file.js'
import { guessFileType, parseFormArgument } from './multipart.js'
import type { FormPart } from './multipart.js'
import { newOperation, toRequests } from './operation.js'
import type { Operation } from './operation.js'
import { resolveLongOption, shortOption } from './options.js'
import type { CurlOption } from './options.js'
import type { CurlRunFlags } from './run-flags.js'
import { wordBytes } from './tokenize.js'

/** One word of a curl command line, already expanded as the shell would. */
export interface CommandWord {
  readonly value: string
  readonly position: number
}

/** What reading one curl command needs from around it. */
export interface ReaderContext {
  /** The whole pasted text, for positions in messages. */
  input: string
  /** Directory `@file` paths are relative to. */
  cwd: string
  /** Largest file read at import, in bytes. */
  maxFileBytes: number
  /** This command's standard input, when the command line says what it is (`echo … |`, `< file`). */
  stdin: { bytes: Buffer; from: string } | undefined
  /** Connection options for the run, filled in by `--http2`, `--cert` …, shared by every command. */
  runFlags: CurlRunFlags
  warn: (message: string) => void
}

const METHOD_TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/
const HEADER_NAME = METHOD_TOKEN

/** Reads one curl command's words (after `curl`) into requests, operation by operation. */
export class CommandReader {
  private readonly operations: Operation[] = [newOperation()]

  #stdinUsed = false

  constructor(private readonly context: ReaderContext) {}

  private get op(): Operation {
    return this.operations[this.operations.length - 1] as Operation
  }

  read(words: readonly CommandWord[]): RequestSpec[] {
    let optionsEnded = false
    for (let i = 0; i < words.length; i++) {
      const word = words[i] as CommandWord
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
        input: this.context.input,
        note: (message) => this.noteOn(operation, message),
        trailing: this.operations.length > 1 && operation === last,
      }),
    )
  }

  /**
   * `--name`, `--no-name` (a boolean turned off), a unique prefix of a name as curl allows
   * (`--sil`), and `--name=value` (not curl's, but people write it).
   */
  private readLong(text: string, takeNext: (flag: string) => string, position: number): void {
    let word = text.slice(2)
    let inline: string | undefined
    let toggle = true
    let found = resolveLongOption(word)
    if (found === undefined && word.includes('=')) {
      const eq = word.indexOf('=')
      const candidate = resolveLongOption(word.slice(0, eq))
      if (candidate !== undefined && 'name' in candidate && candidate.option?.arg === true) {
        found = candidate
        inline = word.slice(eq + 1)
        word = word.slice(0, eq)
      }
    }
    if (found === undefined && word.startsWith('no-')) {
      // curl 7.88 takes --no- only before a whole boolean option's name.
      const positive = resolveLongOption(word.slice(3))
      if (positive !== undefined && 'name' in positive && positive.name === word.slice(3) && positive.option?.arg === false) {
        found = positive
        toggle = false
      }
    }
    if (found !== undefined && 'ambiguous' in found) {
      throw new CurlParseError(
        `curl option --${word} is ambiguous: it could be ${found.ambiguous.map((name) => `--${name}`).join(', ')} (curl refuses it too)`,
        { option: `--${word}`, position },
      )
    }
    if (found === undefined) {
      throw new CurlParseError(`unknown curl option --${word}: curl does not know it either`, { option: `--${word}`, position })
    }
    const option = found.option
    if (option === undefined) {
      if (found.name.startsWith('expand-')) this.refuse(`--${found.name}`, 'curl variables are not expanded; write the values in', position)
      throw new CurlParseError(`curl option --${found.name} is not supported by the importer`, { option: `--${found.name}`, position })
    }
    const flag = `--${option.name}`
    if (word !== option.name && toggle) this.note(`--${word} is curl's abbreviation of ${flag}`)
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
    this.context.warn(message)
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
        if (!METHOD_TOKEN.test(arg)) {
          throw new CurlParseError(
            `${flag} ${JSON.stringify(arg)} is not an HTTP method (one token, no spaces): curl would write it into the ` +
              'request line as-is, and the runner refuses such a request on every run; give the path in the URL',
            { option: flag, position },
          )
        }
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
        if (/^\d+$/.test(arg)) {
          // curl: "A specified range MUST include at least one dash (-). Appending one for you!"
          this.note(`${flag} ${arg}: a range needs a dash; curl appends one, so ${arg}- is asked for`)
          op.range = `${arg}-`
        } else {
          op.range = arg
        }
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
      case 'upload-file':
        op.uploads.push(this.upload(arg, flag))
        break
      case 'path-as-is':
        op.pathAsIs = on
        break
      case 'http2':
        this.context.runFlags.http2 = true
        this.note(`${flag}: run with loads-runner --http2 (HTTP/2 offered to https:// servers; http:// stays HTTP/1.1, where curl would ask to upgrade)`)
        break
      case 'http2-prior-knowledge':
        this.context.runFlags.h2c = true
        this.note(`${flag}: run with loads-runner --h2c (HTTP/2 without TLS)`)
        break
      case 'cert':
        if (/(?<!\\):/.test(arg.replace(/^[A-Za-z]:[\\/]/, ''))) {
          this.refuse(flag, 'a key password (file:password) is not supported by the runner; use a key without a password', position)
        }
        this.context.runFlags.cert = arg
        this.note(`${flag} ${arg}: run with loads-runner --cert (the file is read when the run starts)`)
        break
      case 'key':
        this.context.runFlags.key = arg
        this.note(`${flag} ${arg}: run with loads-runner --key (the file is read when the run starts)`)
        break
      case 'cacert':
        this.context.runFlags.cacert = arg
        this.note(`${flag} ${arg}: run with loads-runner --cacert (the file is read when the run starts)`)
        break
      case 'resolve':
        if (!/^[^:+-][^:]*:\d+:[^,]+$/.test(arg)) {
          this.refuse(flag, `${JSON.stringify(arg)}: only host:port:address is supported by the runner`, position)
        }
        ;(this.context.runFlags.resolve ??= []).push(arg)
        this.note(`${flag} ${arg}: run with loads-runner --resolve`)
        break
      case 'cert-type':
      case 'key-type':
        if (arg.toUpperCase() !== 'PEM') this.refuse(flag, `${arg}: the runner reads PEM files only`, position)
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
      if (!HEADER_NAME.test(name)) {
        throw new CurlParseError(`${flag} ${JSON.stringify(line)}: ${JSON.stringify(name)} is not a valid header name; every run would fail`, { option: flag })
      }
      if (/[\r\n\0]/.test(value)) {
        throw new CurlParseError(
          `${flag} ${JSON.stringify(line)}: the value holds a line break or NUL, which the runner refuses to send (it would split the request); every run would fail`,
          { option: flag },
        )
      }
      if (lower === 'expect' && value !== '') {
        throw new CurlParseError(
          `${flag} ${JSON.stringify(line)}: the runner does not do the Expect: 100-continue handshake, so every run would fail; ` +
            "leave the header out (curl still sends the body when no 100 comes)",
          { option: flag, hint: "remove the -H 'Expect: …' option" },
        )
      }
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
      const name = line.slice(0, semi).trim()
      if (!HEADER_NAME.test(name)) {
        throw new CurlParseError(`${flag} ${JSON.stringify(line)}: ${JSON.stringify(name)} is not a valid header name; every run would fail`, { option: flag })
      }
      this.op.headers.push([name, ''])
      return
    }
    throw new CurlParseError(`${flag} ${JSON.stringify(line)}: a header needs "Name: value"`, { option: flag })
  }

  private addData(bytes: Buffer, separator: '&' | ''): void {
    const op = this.op
    if (separator !== '' && op.data.some((piece) => piece.length > 0)) op.data.push(Buffer.from(separator))
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

  /** curl sends a `-b` that has a `=` as it is (several joined by `; `); without one it names a file. */
  private addCookies(arg: string, flag: string): void {
    if (!arg.includes('=')) {
      throw new CurlParseError(
        `curl option ${flag} ${JSON.stringify(arg)} reads cookies from a file, which is not supported: ` +
          `pass them inline as ${flag} 'name=value; other=value'`,
        { option: flag },
      )
    }
    this.op.cookies.push(arg)
  }

  /** A `-T` file (or `-` for standard input): the body of a PUT, named by its file name. */
  private upload(path: string, flag: string): { name: string; bytes: Buffer } {
    if (/[{[]/.test(path)) this.refuse(flag, `${JSON.stringify(path)}: upload globs are not supported`, 0)
    return { name: path === '-' || path === '.' ? '' : basename(path), bytes: this.readFile(path === '.' ? '-' : path, flag) }
  }

  /**
   * The bytes of `@file` (or `@-`, standard input): read now, embedded in the test, and said so
   * in a warning and in a comment above the request.
   */
  private readFile(path: string, flag: string): Buffer {
    if (path === '-') {
      const stdin = this.context.stdin
      if (stdin === undefined) {
        throw new CurlParseError(
          `curl option ${flag} @- reads standard input, and the command does not say what it is: ` +
            "write it in (-d '…'), or paste it as echo '…' | curl … or curl … < file",
          { option: flag },
        )
      }
      if (this.#stdinUsed) {
        this.note(`${flag} @-: standard input was already read by an earlier option; curl sends nothing here`)
        return Buffer.alloc(0)
      }
      this.#stdinUsed = true
      this.note(`${flag} @-: standard input (${stdin.from}, ${stdin.bytes.length} bytes) read at import and embedded in the test`)
      return stdin.bytes
    }
    const bytes = readLocalFile(path, flag, this.context.cwd, this.context.maxFileBytes)
    this.note(`${flag}: read ${JSON.stringify(path)} (${bytes.length} bytes) at import; its content is embedded in the test`)
    return bytes
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
