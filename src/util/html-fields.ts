/**
 * Reads the values an HTML page hands to the requests that follow it: form fields
 * (`<input name=… value=…>`) and meta tags (`<meta name=… content=…>`). A tolerant scan, not a
 * parser: attributes in any order and any quoting, entities in values decoded. Used by the HAR
 * importer (to find where a recorded value came from) and by generated tests (to take the live
 * value), so both read a page the same way.
 */

/** One tag's attributes, names lower-cased, values with entities decoded. */
export type TagAttributes = ReadonlyMap<string, string>

const ATTRIBUTE = /([^\s"'<>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?/g
const ENTITY = /&(?:#(\d{1,7})|#x([0-9a-f]{1,6})|(amp|lt|gt|quot|apos|#39));/gi
const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" }

/** Every `<tag …>` of that name in `html`, in document order, as attribute maps. */
export function tagsNamed(html: string, tag: string): TagAttributes[] {
  const found: TagAttributes[] = []
  const open = new RegExp(`<${tag}\\b([^>]*)>`, 'gi')
  for (const match of html.matchAll(open)) found.push(attributes(match[1] ?? ''))
  return found
}

/** The value of the first `<input name="name">` (hidden or not) in `html`, or undefined. */
export function inputValue(html: string, name: string): string | undefined {
  for (const tag of tagsNamed(html, 'input')) if (tag.get('name') === name) return tag.get('value') ?? ''
  return undefined
}

/** The content of the first `<meta name="name">` (or `property=`, `http-equiv=`) in `html`, or undefined. */
export function metaContent(html: string, name: string): string | undefined {
  for (const tag of tagsNamed(html, 'meta')) {
    if (tag.get('name') === name || tag.get('property') === name || tag.get('http-equiv') === name) return tag.get('content') ?? ''
  }
  return undefined
}

function attributes(text: string): TagAttributes {
  const map = new Map<string, string>()
  for (const match of text.matchAll(ATTRIBUTE)) {
    const name = match[1]!.toLowerCase()
    if (!map.has(name)) map.set(name, decodeEntities(match[2] ?? match[3] ?? match[4] ?? ''))
  }
  return map
}

function decodeEntities(text: string): string {
  if (!text.includes('&')) return text
  return text.replace(ENTITY, (whole, dec?: string, hex?: string, named?: string) => {
    if (dec !== undefined) return safeCodePoint(Number(dec), whole)
    if (hex !== undefined) return safeCodePoint(Number.parseInt(hex, 16), whole)
    const key = (named ?? '').toLowerCase()
    return key === '#39' ? "'" : (NAMED[key] ?? whole)
  })
}

function safeCodePoint(code: number, fallback: string): string {
  return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : fallback
}

/** A `<form>` of a page: where it posts, how, and its `<input>`s in order. */
export interface HtmlForm {
  action: string
  method: string
  enctype: string
  inputs: TagAttributes[]
}

/** Every `<form>…</form>` in `html`, in document order. */
export function formsIn(html: string): HtmlForm[] {
  const forms: HtmlForm[] = []
  for (const match of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form\s*>/gi)) {
    const attrs = attributes(match[1] ?? '')
    forms.push({
      action: attrs.get('action') ?? '',
      method: (attrs.get('method') ?? 'get').toUpperCase(),
      enctype: (attrs.get('enctype') ?? 'application/x-www-form-urlencoded').toLowerCase(),
      inputs: tagsNamed(match[2] ?? '', 'input'),
    })
  }
  return forms
}
