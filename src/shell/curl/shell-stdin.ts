import type { CommandWord } from './command-reader.js'
import { readLocalFile } from './local-file.js'
import { wordBytes } from './tokenize.js'

/**
 * What a command before `| curl` writes to curl's standard input, for the commands API docs
 * put there: `echo [-n] [-e] …`, `printf 'format' …` (with %s, %% and backslash escapes) and
 * `cat file…` (files read with the importer's limits). Anything else: undefined, and curl's
 * `@-` is then refused with a message saying so.
 */
export function shellStdin(
  words: readonly CommandWord[],
  context: { cwd: string; maxFileBytes: number; warn: (message: string) => void },
): { bytes: Buffer; from: string } | undefined {
  const [command, ...args] = words.map((word) => word.value)
  if (command === 'echo') {
    let newline = true
    let escapes = false
    while (args.length > 0 && /^-[neE]+$/.test(args[0] as string)) {
      const flags = args.shift() as string
      if (flags.includes('n')) newline = false
      for (const letter of flags.slice(1)) if (letter === 'e') escapes = true
      else if (letter === 'E') escapes = false
    }
    const text = args.join(' ')
    const body = escapes ? backslashEscapes(text) : wordBytes(text)
    return { bytes: newline ? Buffer.concat([body, Buffer.from('\n')]) : body, from: 'echo' }
  }
  if (command === 'printf' && args.length > 0) {
    const format = args.shift() as string
    // Escapes apply to the format, not to what %s inserts.
    const pieces: Buffer[] = []
    let literal = ''
    let used = 0
    for (let i = 0; i < format.length; i++) {
      const c = format[i] as string
      if (c !== '%') {
        literal += c
        continue
      }
      const next = format[i + 1]
      if (next === '%') literal += '%'
      else if (next === 's') {
        pieces.push(backslashEscapes(literal), wordBytes(args[used++] ?? ''))
        literal = ''
      } else return undefined
      i++
    }
    if (used < args.length) return undefined
    pieces.push(backslashEscapes(literal))
    return { bytes: Buffer.concat(pieces), from: 'printf' }
  }
  if (command === 'cat' && args.length > 0 && !args.some((arg) => arg.startsWith('-'))) {
    const bytes = Buffer.concat(args.map((file) => readLocalFile(file, 'cat', context.cwd, context.maxFileBytes)))
    context.warn(`cat ${args.join(' ')}: read at import as curl's standard input`)
    return { bytes, from: `cat ${args.join(' ')}` }
  }
  return undefined
}

const SIMPLE: Record<string, number> = { a: 7, b: 8, e: 27, f: 12, n: 10, r: 13, t: 9, v: 11, '\\': 92 }

/** echo -e's and printf's escapes: \n \t \\ …, \0nnn octal and \xHH. */
function backslashEscapes(text: string): Buffer {
  const bytes: Buffer[] = []
  let start = 0
  for (let i = 0; i < text.length; i++) {
    if (text[i] !== '\\') continue
    const e = text[i + 1]
    if (e === undefined) break
    let byte: number | undefined
    let length = 2
    if (Object.hasOwn(SIMPLE, e)) byte = SIMPLE[e]
    else if (e === 'x' && /^[0-9a-fA-F]/.test(text[i + 2] ?? '')) {
      const digits = /^[0-9a-fA-F]{1,2}/.exec(text.slice(i + 2, i + 4))?.[0] ?? ''
      byte = parseInt(digits, 16)
      length += digits.length
    } else if (e === '0') {
      const digits = /^[0-7]{0,3}/.exec(text.slice(i + 2, i + 5))?.[0] ?? ''
      byte = digits === '' ? 0 : parseInt(digits, 8) & 0xff
      length += digits.length
    }
    if (byte === undefined) continue
    bytes.push(wordBytes(text.slice(start, i)), Buffer.of(byte))
    start = i + length
    i += length - 1
  }
  bytes.push(wordBytes(text.slice(start)))
  return Buffer.concat(bytes)
}
