import { HarParseError } from './har-parse-error.js'

/** One HAR entry that has what a request needs, with where it was in the file. */
export interface HarEntry {
  /** Index in `log.entries` (what warnings name). */
  index: number
  entry: Record<string, unknown>
  request: Record<string, unknown>
  method: string
  url: URL
  /** `startedDateTime` in ms since the epoch; NaN when absent or unreadable. */
  startedMs: number
}

/** A page of the recording (`log.pages`): one navigation in most browsers. */
export interface HarPage {
  id: string
  title: string
  startedMs: number
}

/**
 * The entries of a HAR, as browsers and proxies write it: JSON, or HAR Viewer's JSONP form
 * (`onInputData({…});`), a UTF-8 BOM allowed. Entries are sorted by start time (exports list
 * them in completion order or by tab; the replay must send them as the browser did), ties kept
 * in file order. An entry without a usable method or URL is skipped with a warning naming it;
 * only a file that is not a HAR at all throws HarParseError.
 */
export function readHarEntries(input: string | unknown, warn: (message: string) => void): { entries: HarEntry[]; pages: HarPage[]; creator: string | undefined } {
  const log = field(parseJson(input), 'log')
  const list = field(log, 'entries')
  if (!Array.isArray(list)) {
    throw new HarParseError(
      'not a HAR file: expected an object with log.entries (an array); export one from the browser ' +
        'network panel with "Save all as HAR"',
    )
  }
  const entries: HarEntry[] = []
  list.forEach((entry: unknown, index) => {
    const request = field(entry, 'request')
    const method = field(request, 'method')
    const rawUrl = field(request, 'url')
    let problem: string | undefined
    let url: URL | undefined
    if (typeof method !== 'string' || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(method)) problem = 'request.method is missing or not an HTTP method'
    else if (typeof rawUrl !== 'string' || rawUrl === '') problem = 'request.url is missing'
    else {
      try {
        url = new URL(rawUrl)
      } catch {
        problem = `request.url ${JSON.stringify(rawUrl)} is not a URL`
      }
    }
    if (problem !== undefined || url === undefined) {
      warn(`entry ${index}: skipped: ${problem ?? 'unreadable'}`)
      return
    }
    const started = field(entry, 'startedDateTime')
    entries.push({
      index,
      entry: entry as Record<string, unknown>,
      request: request as Record<string, unknown>,
      method: method as string,
      url,
      startedMs: typeof started === 'string' ? Date.parse(started) : Number.NaN,
    })
  })
  // Stable: entries without a time keep their place relative to their neighbours in the file.
  if (entries.every((e) => !Number.isNaN(e.startedMs))) entries.sort((a, b) => a.startedMs - b.startedMs || a.index - b.index)
  const pages: HarPage[] = []
  const pageList = field(log, 'pages')
  if (Array.isArray(pageList)) {
    for (const page of pageList) {
      const id = field(page, 'id')
      if (typeof id !== 'string') continue
      const title = field(page, 'title')
      const started = field(page, 'startedDateTime')
      pages.push({ id, title: typeof title === 'string' && title.trim() !== '' ? title.trim() : id, startedMs: typeof started === 'string' ? Date.parse(started) : Number.NaN })
    }
  }
  return { entries, pages, creator: stringField(field(log, 'creator'), 'name') }
}

function parseJson(input: unknown): unknown {
  if (typeof input !== 'string') return input
  let text = input.replace(/^\uFEFF/, '').trim()
  // HAR Viewer's JSONP: `onInputData({...});` (any callback name).
  const jsonp = /^[A-Za-z_$][\w$.]*\s*\(([\s\S]*)\)\s*;?$/.exec(text)
  if (jsonp !== null) text = jsonp[1]!
  try {
    return JSON.parse(text)
  } catch (error) {
    throw new HarParseError(`not a HAR file: it is not JSON (${error instanceof Error ? error.message : String(error)})`)
  }
}

/** `value[name]` when value is an object, else undefined. */
export function field(value: unknown, name: string): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[name] : undefined
}

/** `value[name]` when it is a string, else undefined. */
export function stringField(value: unknown, name: string): string | undefined {
  const found = field(value, name)
  return typeof found === 'string' ? found : undefined
}
