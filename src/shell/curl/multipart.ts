import { CurlParseError } from './curl-parse-error.js'

/** One `-F` part, its content already read (files are embedded at import time). */
export interface FormPart {
  name: string
  content: Uint8Array
  /** Present for file uploads (`name=@file`) or `;filename=`. */
  filename?: string
  contentType?: string
}

/**
 * Fixed so that generated tests are reproducible and diff cleanly; lengthened if a part happens
 * to contain it.
 */
const BASE_BOUNDARY = '------------------------LoadsFormBoundary7MA4YWxkTrZu0gW'

/** The multipart/form-data body curl would send for these parts, with its boundary. */
export function buildMultipart(parts: readonly FormPart[]): { boundary: string; body: Buffer } {
  let boundary = BASE_BOUNDARY
  for (let n = 1; parts.some((part) => Buffer.from(part.content).includes(boundary)); n++) {
    boundary = `${BASE_BOUNDARY}${n}`
  }
  const chunks: Buffer[] = []
  for (const part of parts) {
    let head = `--${boundary}\r\nContent-Disposition: form-data; name="${escapeQuoted(part.name)}"`
    if (part.filename !== undefined) head += `; filename="${escapeQuoted(part.filename)}"`
    head += '\r\n'
    if (part.contentType !== undefined) head += `Content-Type: ${part.contentType}\r\n`
    chunks.push(Buffer.from(`${head}\r\n`, 'utf8'), Buffer.from(part.content), Buffer.from('\r\n'))
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`))
  return { boundary, body: Buffer.concat(chunks) }
}

/** Like curl (and the HTML standard): quotes and line breaks in names are percent-encoded. */
function escapeQuoted(value: string): string {
  return value.replace(/"/g, '%22').replace(/\r/g, '%0D').replace(/\n/g, '%0A')
}

const TYPES: Record<string, string> = {
  gif: 'image/gif', jpg: 'image/jpeg', jpeg: 'image/jpeg', png: 'image/png', svg: 'image/svg+xml',
  txt: 'text/plain', htm: 'text/html', html: 'text/html', pdf: 'application/pdf', xml: 'application/xml',
}

/** curl's guess for an uploaded file's Content-Type: a short list, octet-stream otherwise. */
export function guessFileType(filename: string): string {
  const ext = /\.([^./\\]+)$/.exec(filename)?.[1]?.toLowerCase()
  return (ext !== undefined ? TYPES[ext] : undefined) ?? 'application/octet-stream'
}

/** A parsed `-F` argument before files are read. */
export interface FormSpec {
  name: string
  /** `text`: literal value; `file`: upload the file (`@`); `file-text`: file content as a value (`<`). */
  source: 'text' | 'file' | 'file-text'
  value: string
  type?: string
  filename?: string
}

/**
 * Parses curl's `-F name=content[;type=…][;filename=…]` syntax. Values may be double-quoted to
 * contain `;` (with `\"` and `\\` escapes), as curl allows.
 */
export function parseFormArgument(arg: string, option: string): { spec: FormSpec; warnings: string[] } {
  const eq = arg.indexOf('=')
  if (eq <= 0) {
    throw new CurlParseError(`${option} ${JSON.stringify(arg)}: expected name=content`, { option })
  }
  const name = arg.slice(0, eq)
  let rest = arg.slice(eq + 1)
  let source: FormSpec['source'] = 'text'
  if (rest.startsWith('@')) {
    source = 'file'
    rest = rest.slice(1)
  } else if (rest.startsWith('<')) {
    source = 'file-text'
    rest = rest.slice(1)
  }
  const [value, after] = readValue(rest)
  const spec: FormSpec = { name, source, value }
  const warnings: string[] = []
  let params = after
  while (params.startsWith(';')) {
    params = params.slice(1)
    const keyMatch = /^\s*([A-Za-z]+)=/.exec(params)
    if (keyMatch === null) {
      // curl skips it too; a value containing ';' has to be double-quoted.
      const semi = params.indexOf(';')
      const skipped = semi === -1 ? params : params.slice(0, semi)
      warnings.push(`${option} ${name}: ignored ;${skipped} as curl does (quote the value to send a ';')`)
      params = semi === -1 ? '' : params.slice(semi)
      continue
    }
    const key = (keyMatch[1] as string).toLowerCase()
    const [paramValue, next] = readValue(params.slice(keyMatch[0].length))
    params = next
    if (key === 'type') spec.type = paramValue
    else if (key === 'filename') spec.filename = paramValue
    else if (key === 'headers' || key === 'encoder') {
      throw new CurlParseError(`${option} ${name}: ;${key}= is not supported`, { option })
    } else warnings.push(`${option} ${name}: ignored unknown parameter ;${key}=`)
  }
  return { spec, warnings }
}

/** A value up to the next unquoted `;`, unquoting "…". */
function readValue(text: string): [string, string] {
  if (text.startsWith('"')) {
    let value = ''
    let i = 1
    while (i < text.length && text[i] !== '"') {
      if (text[i] === '\\' && (text[i + 1] === '"' || text[i + 1] === '\\')) i++
      value += text[i]
      i++
    }
    if (i < text.length) {
      const after = text.slice(i + 1)
      const semi = after.indexOf(';')
      return [value, semi === -1 ? '' : after.slice(semi)]
    }
  }
  const semi = text.indexOf(';')
  return semi === -1 ? [text, ''] : [text.slice(0, semi), text.slice(semi)]
}
