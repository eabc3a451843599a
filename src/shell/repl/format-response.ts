import type { Response } from '../../http/response.js'
import { decodePrintableUtf8 } from '../request-spec.js'

export interface FormatOptions {
  /** Print the response headers too (`.headers on`). */
  headers: boolean
  /** Most body lines shown; Infinity for all. */
  maxLines: number
  /** ANSI colours (on a terminal). */
  colors: boolean
}

/** Characters shown at most, whatever the line count: one minified line can be megabytes. */
const MAX_CHARS_PER_LINE = 2000

/**
 * A response as the shell prints it: a status line with timing and size (and the redirects that
 * led there), the headers when asked, then the body: JSON indented, text as is, bytes described;
 * long bodies cut, with a note saying how much was left out and where the rest is.
 */
export function formatResponse(res: Response, options: FormatOptions): string {
  const paint = painter(options.colors)
  const lines: string[] = []
  for (const hop of res.history) lines.push(paint('dim', `${hop.status} ${hop.reason} → ${hop.headers.location ?? ''}`))
  const statusColor = res.status >= 500 ? 'red' : res.status >= 400 ? 'yellow' : res.status >= 300 ? 'cyan' : 'green'
  const ms = res.totalUs / 1000
  lines.push(
    `${paint(statusColor, `${res.status} ${res.reason}`)}  ${paint('dim', `${ms < 10 ? ms.toFixed(1) : Math.round(ms)} ms · ${formatSize(res)} · ${res.request.method} ${res.url}`)}`,
  )
  if (options.headers) {
    for (const [name, value] of Object.entries(res.headers)) lines.push(`${paint('cyan', name)}: ${value}`)
  }
  const body = bodyText(res)
  if (body === '') return lines.join('\n')
  lines.push('')
  const bodyLines = body.split('\n')
  const shown = bodyLines.slice(0, options.maxLines).map((line) => (line.length > MAX_CHARS_PER_LINE ? `${line.slice(0, MAX_CHARS_PER_LINE)}…` : line))
  lines.push(...shown)
  const hiddenLines = bodyLines.length - shown.length
  const cutLines = shown.filter((line) => line.endsWith('…')).length
  if (hiddenLines > 0 || cutLines > 0) {
    const what = hiddenLines > 0 ? `${hiddenLines} more line${hiddenLines === 1 ? '' : 's'}` : `${cutLines} long line${cutLines === 1 ? '' : 's'} cut`
    lines.push(paint('dim', `… ${what} not shown (${res.content.length} bytes in all): last.text has the whole body, .body all shows it`))
  }
  return lines.join('\n')
}

function bodyText(res: Response): string {
  let content: Buffer
  try {
    content = res.content
  } catch (err) {
    return `(${(err as Error).message})`
  }
  if (content.length === 0) return ''
  const text = decodePrintableUtf8(content)
  const type = res.headers['content-type'] ?? ''
  if (text === undefined) return `(${content.length} bytes of ${type === '' ? 'binary data' : type}: last.content has them)`
  if (/json/i.test(type) || /^\s*[[{]/.test(text)) {
    try {
      return JSON.stringify(JSON.parse(text), null, 2)
    } catch {
      // Not JSON after all: shown as text.
    }
  }
  return text.replace(/\r\n/g, '\n').replace(/\n$/, '')
}

function formatSize(res: Response): string {
  const wire = res.rawContent.length
  let size = formatBytes(wire)
  if (res.headers['content-encoding'] !== undefined) {
    try {
      size += ` (${formatBytes(res.content.length)} decoded)`
    } catch {
      size += ' (undecodable)'
    }
  }
  return size
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} kB`
  return `${(n / 1024 / 1024).toFixed(1)} MB`
}

const CODES = { red: 31, green: 32, yellow: 33, cyan: 36, dim: 2, bold: 1 } as const

/** Wraps text in an ANSI colour, or not. */
export function painter(colors: boolean): (color: keyof typeof CODES, text: string) => string {
  return colors ? (color, text) => `\x1b[${CODES[color]}m${text}\x1b[0m` : (_color, text) => text
}
