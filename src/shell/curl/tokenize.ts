import { CurlParseError, describePosition } from './curl-parse-error.js'

/**
 * Shell words, the way bash would hand them to curl, plus the control operators that end a
 * command (`\n ; && || | &`) and redirections (`> file`, `2>&1`), so that a pasted
 * "Copy all as cURL" or `curl … | jq` can be cut into commands by the parser.
 */
export type ShellToken =
  | {
      readonly kind: 'word'
      /** The word with any `$NAME` left as written. */
      readonly value: string
      readonly position: number
      /** Present when the word expands variables: its literal pieces and the names between them. */
      readonly parts?: readonly WordPart[]
    }
  | { readonly kind: 'op'; readonly value: string; readonly position: number }

/** A piece of a word: literal text, or a `$NAME` / `${NAME}` the shell would expand. */
export type WordPart = string | { readonly variable: string }

/**
 * The word as the shell would pass it, variables looked up with `lookup` (undefined: unset,
 * which the shell expands to nothing).
 */
export function expandWord(token: { value: string; parts?: readonly WordPart[] }, lookup: (name: string) => string | undefined): string {
  if (token.parts === undefined) return token.value
  let out = ''
  for (const part of token.parts) out += typeof part === 'string' ? part : (lookup(part.variable) ?? '')
  return out
}

export interface TokenizeResult {
  tokens: ShellToken[]
  /** Things bash would have done that we did not (variable expansion, command substitution). */
  warnings: string[]
}

/**
 * Splits a command line into words. Two dialects:
 * - POSIX sh/bash: '…', "…" with backslash escapes, $'…' ANSI-C quoting (Chrome's "Copy as cURL
 *   (bash)"), backslash escapes and backslash-newline continuations, # comments;
 * - Windows cmd.exe (Chrome's "Copy as cURL (cmd)"), chosen when lines end with `^` or the text
 *   uses `^"`: caret escapes, then the Microsoft C runtime's argument rules.
 * Throws CurlParseError on an unbalanced quote, giving where it opened.
 */
export function tokenize(input: string): TokenizeResult {
  return looksLikeCmd(input) ? tokenizeCmd(input) : tokenizePosix(input)
}

function looksLikeCmd(input: string): boolean {
  return /\^\r?\n/.test(input) || (input.includes('^"') && !/\\\r?\n/.test(input))
}

const OPERATOR = /^(?:\d*(?:>>|>&|&>|>|<)|&&|\|\||[;|&])/
const BLANK = new Set([' ', '\t', '\r'])
const WORD_END = new Set([' ', '\t', '\r', '\n', ';', '|', '&', '<', '>'])

function tokenizePosix(input: string): TokenizeResult {
  const tokens: ShellToken[] = []
  const warnings: string[] = []
  let i = 0
  const n = input.length

  const unbalanced = (quote: string, start: number): never => {
    throw new CurlParseError(
      `unbalanced ${quote} quote opened at ${describePosition(input, start)}: the command ends ` +
        'before the closing quote (was it cut when copying?)',
      { position: start },
    )
  }

  // Sticky regexes: matched where the `$` is, never on a copy of the rest of the input.
  const SIMPLE_VARIABLE = /\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))/y
  const OTHER_EXPANSION = /\$(?:\{[^}]*\}|\([^)]*\)?|[0-9@*#?$!-])/y
  let parts: WordPart[] | undefined
  let literal = ''
  /** At a `$`: a variable becomes a part of the word; returns the characters it used, or 0. */
  const expansion = (at: number): number => {
    SIMPLE_VARIABLE.lastIndex = at
    const variable = SIMPLE_VARIABLE.exec(input)
    if (variable !== null) {
      parts ??= []
      parts.push(literal, { variable: (variable[1] ?? variable[2]) as string })
      literal = ''
      return variable[0].length
    }
    OTHER_EXPANSION.lastIndex = at
    const other = OTHER_EXPANSION.exec(input)
    if (other !== null) warnings.push(`shell expansion ${other[0]} is not expanded; the text is kept literally`)
    return 0
  }

  while (i < n) {
    const c = input[i] as string
    if (BLANK.has(c)) {
      i++
      continue
    }
    if (c === '\\' && (input[i + 1] === '\n' || (input[i + 1] === '\r' && input[i + 2] === '\n'))) {
      i += input[i + 1] === '\n' ? 2 : 3
      continue
    }
    if (c === '\n') {
      tokens.push({ kind: 'op', value: '\n', position: i })
      i++
      continue
    }
    if (c === '#') {
      while (i < n && input[i] !== '\n') i++
      continue
    }
    const op = OPERATOR.exec(input.slice(i, i + 8))
    if (op) {
      tokens.push({ kind: 'op', value: op[0], position: i })
      i += op[0].length
      continue
    }

    // A word: concatenated quoted and unquoted pieces up to an unquoted blank or operator.
    const start = i
    let value = ''
    parts = undefined
    literal = ''
    const add = (text: string): void => {
      value += text
      literal += text
    }
    while (i < n && !WORD_END.has(input[i] as string)) {
      const ch = input[i] as string
      if (ch === '\\') {
        const next = input[i + 1]
        if (next === undefined) {
          add('\\')
          i++
        } else if (next === '\n') {
          i += 2
        } else if (next === '\r' && input[i + 2] === '\n') {
          i += 3
        } else {
          add(next)
          i += 2
        }
      } else if (ch === "'") {
        const close = input.indexOf("'", i + 1)
        if (close === -1) unbalanced('single', i)
        add(input.slice(i + 1, close))
        i = close + 1
      } else if (ch === '$' && input[i + 1] === "'") {
        const { text, end } = ansiC(input, i + 2)
        if (end === -1) unbalanced("$'…' (ANSI-C)", i)
        add(text)
        i = end + 1
      } else if (ch === '"' || (ch === '$' && input[i + 1] === '"')) {
        const open = ch === '$' ? i + 1 : i
        i = open + 1
        let closed = false
        while (i < n) {
          const d = input[i] as string
          if (d === '"') {
            closed = true
            i++
            break
          }
          if (d === '\\') {
            const next = input[i + 1]
            if (next === '\n') {
              i += 2
            } else if (next === '\r' && input[i + 2] === '\n') {
              i += 3
            } else if (next === '\\' || next === '"' || next === '$' || next === '`') {
              add(next)
              i += 2
            } else {
              add('\\')
              i++
            }
            continue
          }
          const used = d === '$' ? expansion(i) : 0
          if (used > 0) {
            value += input.slice(i, i + used)
            i += used
            continue
          }
          if (d === '`') warnings.push('command substitution `…` is not run; the text is kept literally')
          add(d)
          i++
        }
        if (!closed) unbalanced('double', open)
      } else {
        const used = ch === '$' ? expansion(i) : 0
        if (used > 0) {
          value += input.slice(i, i + used)
          i += used
          continue
        }
        if (ch === '`') warnings.push('command substitution `…` is not run; the text is kept literally')
        add(ch)
        i++
      }
    }
    if (parts === undefined) tokens.push({ kind: 'word', value, position: start })
    else tokens.push({ kind: 'word', value, position: start, parts: [...parts, literal] })
  }
  return { tokens, warnings }
}

/** Decodes $'…' from `from` (just after the opening quote); end is the closing quote's index. */
function ansiC(input: string, from: number): { text: string; end: number } {
  const bytes: number[] = []
  const pushText = (s: string): void => {
    for (const b of Buffer.from(s, 'utf8')) bytes.push(b)
  }
  const pushCodePoint = (cp: number): void => {
    if (cp <= 0x10ffff && (cp < 0xd800 || cp > 0xdfff)) pushText(String.fromCodePoint(cp))
  }
  const simple: Record<string, number> = {
    a: 7, b: 8, e: 27, E: 27, f: 12, n: 10, r: 13, t: 9, v: 11, '\\': 92, "'": 39, '"': 34, '?': 63,
  }
  let i = from
  while (i < input.length) {
    const c = input[i] as string
    if (c === "'") return { text: decodeSurrogateEscape(bytes), end: i }
    if (c !== '\\') {
      const cp = input.codePointAt(i) as number
      pushCodePoint(cp)
      i += cp > 0xffff ? 2 : 1
      continue
    }
    const e = input[i + 1]
    if (e === undefined) break
    const rest = input.slice(i + 2)
    if (Object.hasOwn(simple, e)) {
      bytes.push(simple[e] as number)
      i += 2
    } else if (/[0-7]/.test(e)) {
      const digits = /^[0-7]{1,3}/.exec(input.slice(i + 1))?.[0] ?? e
      bytes.push(parseInt(digits, 8) & 0xff)
      i += 1 + digits.length
    } else if (e === 'x' && /^[0-9a-fA-F]/.test(rest)) {
      const digits = /^[0-9a-fA-F]{1,2}/.exec(rest)?.[0] ?? ''
      bytes.push(parseInt(digits, 16))
      i += 2 + digits.length
    } else if ((e === 'u' || e === 'U') && /^[0-9a-fA-F]/.test(rest)) {
      const digits = (e === 'u' ? /^[0-9a-fA-F]{1,4}/ : /^[0-9a-fA-F]{1,8}/).exec(rest)?.[0] ?? ''
      pushCodePoint(parseInt(digits, 16))
      i += 2 + digits.length
    } else if (e === 'c' && rest.length > 0) {
      bytes.push((rest.charCodeAt(0) & 0x1f) as number)
      i += 3
    } else {
      bytes.push(92)
      pushText(e)
      i += 2
    }
  }
  return { text: '', end: -1 }
}

/**
 * cmd.exe first: `^x` → x, `^` + newline joins lines (and escapes the next character), "…"
 * regions keep carets literal, an unescaped newline ends the command. Then each command line is
 * split with the Microsoft C runtime rules (what curl.exe's main() receives).
 */
function tokenizeCmd(input: string): TokenizeResult {
  const tokens: ShellToken[] = []
  let line = ''
  let lineStart = 0
  let quoted = false
  let quoteAt = 0
  const flush = (at: number): void => {
    for (const word of splitMsvcrt(line, input, lineStart)) tokens.push(word)
    line = ''
    lineStart = at
  }
  let i = 0
  while (i < input.length) {
    const c = input[i] as string
    if (c === '"') {
      quoted = !quoted
      quoteAt = i
      line += c
      i++
    } else if (c === '^' && !quoted) {
      let j = i + 1
      if (input[j] === '\r') j++
      if (input[j] === '\n') {
        // Line continuation: the first character of the next line is taken literally.
        let k = j + 1
        if (input[k] === '\r' && input[k + 1] === '\n') k++
        const next = input[k]
        if (next !== undefined) line += next
        i = k + 1
      } else {
        const next = input[i + 1]
        if (next !== undefined) line += next
        i += 2
      }
    } else if (c === '\n' && !quoted) {
      flush(i + 1)
      tokens.push({ kind: 'op', value: '\n', position: i })
      i++
    } else {
      if (c !== '\r') line += c
      i++
    }
  }
  if (quoted) {
    throw new CurlParseError(
      `unbalanced double quote opened at ${describePosition(input, quoteAt)}`,
      { position: quoteAt },
    )
  }
  flush(input.length)
  return { tokens, warnings: [] }
}

function* splitMsvcrt(line: string, input: string, position: number): Generator<ShellToken> {
  let i = 0
  while (i < line.length) {
    while (i < line.length && /\s/.test(line[i] as string)) i++
    if (i >= line.length) return
    let value = ''
    let quoted = false
    const start = i
    while (i < line.length && (quoted || !/\s/.test(line[i] as string))) {
      const c = line[i] as string
      if (c === '\\') {
        let count = 0
        while (line[i] === '\\') {
          count++
          i++
        }
        if (line[i] === '"') {
          value += '\\'.repeat(Math.floor(count / 2))
          if (count % 2 === 1) {
            value += '"'
            i++
          }
        } else {
          value += '\\'.repeat(count)
        }
      } else if (c === '"') {
        if (quoted && line[i + 1] === '"') {
          value += '"'
          i += 2
        } else {
          quoted = !quoted
          i++
        }
      } else {
        value += c
        i++
      }
    }
    if (quoted) {
      throw new CurlParseError(`unbalanced double quote in ${JSON.stringify(line.slice(start, start + 40))}`, {
        position: Math.min(position, input.length),
      })
    }
    yield { kind: 'word', value, position: position + start }
  }
}

/**
 * UTF-8 decoding that keeps invalid bytes (`$'\xff'`) as lone surrogates U+DC80–U+DCFF, as
 * Python's "surrogateescape" does, so that wordBytes() can give the exact bytes back.
 */
function decodeSurrogateEscape(bytes: readonly number[]): string {
  const decoder = new TextDecoder('utf-8', { fatal: true })
  let out = ''
  let i = 0
  while (i < bytes.length) {
    const b = bytes[i] as number
    const length = b < 0x80 ? 1 : b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0
    if (length > 0 && i + length <= bytes.length) {
      try {
        out += decoder.decode(Uint8Array.from(bytes.slice(i, i + length)))
        i += length
        continue
      } catch {
        // not a valid sequence: escape the lead byte below
      }
    }
    out += String.fromCharCode(0xdc00 + b)
    i++
  }
  return out
}

/** The bytes a shell word stands for: UTF-8, except escaped raw bytes (see decodeSurrogateEscape). */
export function wordBytes(word: string): Buffer {
  const chunks: Buffer[] = []
  let start = 0
  for (let i = 0; i < word.length; i++) {
    const code = word.charCodeAt(i)
    const previous = i > 0 ? word.charCodeAt(i - 1) : 0
    if (code >= 0xdc80 && code <= 0xdcff && !(previous >= 0xd800 && previous <= 0xdbff)) {
      chunks.push(Buffer.from(word.slice(start, i), 'utf8'), Buffer.of(code - 0xdc00))
      start = i + 1
    }
  }
  chunks.push(Buffer.from(word.slice(start), 'utf8'))
  return Buffer.concat(chunks)
}
