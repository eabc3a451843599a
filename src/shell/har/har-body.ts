import { randomBytes } from 'node:crypto'
import { classifyBody, findHeader } from '../request-spec.js'
import type { RequestBody } from '../request-spec.js'
import type { HtmlForm } from '../../util/html-fields.js'
import { field, stringField } from './har-entries.js'

/** What a body's reconstruction may draw on besides the entry itself. */
export interface BodyContext {
  /** Index of the entry in `log.entries`, for warnings. */
  index: number
  /** The request's absolute URL. */
  url: string
  /** `request.bodySize` as recorded (-1 or absent: unknown). */
  bodySize: number
  /** The `<form>` of an earlier recorded page that posts to `url`, and that entry's index. */
  formFor(url: string): { form: HtmlForm; entry: number } | undefined
  warn(message: string): void
}

/** A body and the remarks the generated code carries about it. */
export interface HarBody {
  body: RequestBody
  notes: string[]
}

const MULTIPART = /^multipart\/form-data\b/i
const FORM = /^application\/x-www-form-urlencoded\b/i

/**
 * The body a HAR entry sent, as faithfully as the recording allows: `text` (decoded from base64
 * when `encoding` says so, so binary bodies go out byte for byte); the `params` when the text is
 * empty (a form re-encoded, a multipart body rebuilt with the recorded boundary); and when the
 * recording kept no body at all although one was sent (Chrome and Playwright leave file uploads
 * and binary bodies out) a placeholder the user fills in — rebuilt from the page's `<form>` when
 * an earlier page has one posting here — with a warning naming the entry. Sets Content-Type from
 * `postData.mimeType` when the headers lack one.
 */
export function harRequestBody(postData: unknown, headers: Record<string, string>, ctx: BodyContext): HarBody {
  const typeKey = findHeader(headers, 'content-type')
  const mimeType = stringField(postData, 'mimeType')
  if (typeKey === undefined && mimeType !== undefined && mimeType !== '') headers['Content-Type'] = mimeType
  const contentType = typeKey === undefined ? mimeType : headers[typeKey]
  const text = stringField(postData, 'text')
  const encoding = stringField(postData, 'encoding')
  if (text !== undefined && text !== '') {
    const bytes = encoding?.toLowerCase() === 'base64' ? Buffer.from(text, 'base64') : Buffer.from(text, 'utf8')
    return { body: classifyBody(bytes, contentType), notes: [] }
  }
  const params = field(postData, 'params')
  if (Array.isArray(params) && params.length > 0) {
    if (contentType !== undefined && MULTIPART.test(contentType)) {
      return multipartFromParts(params.map((p) => ({ name: stringField(p, 'name') ?? '', value: stringField(p, 'value'), fileName: stringField(p, 'fileName'), contentType: stringField(p, 'contentType') })), headers, ctx, 'its params')
    }
    const search = new URLSearchParams()
    for (const param of params) search.append(stringField(param, 'name') ?? '', stringField(param, 'value') ?? '')
    if (contentType === undefined || FORM.test(contentType)) {
      if (contentType === undefined) headers['Content-Type'] = 'application/x-www-form-urlencoded'
      return { body: classifyBody(Buffer.from(search.toString()), 'application/x-www-form-urlencoded'), notes: [] }
    }
  }
  if (!(ctx.bodySize > 0)) return { body: { kind: 'none' }, notes: [] }

  // A body was sent (bodySize says so) and the recording kept none of it.
  if (contentType !== undefined && MULTIPART.test(contentType)) {
    const found = ctx.formFor(ctx.url)
    if (found !== undefined) {
      const parts = found.form.inputs.flatMap((input): Part[] => {
        const name = input.get('name')
        const type = (input.get('type') ?? 'text').toLowerCase()
        if (name === undefined || name === '' || type === 'submit' || type === 'button' || type === 'reset' || type === 'image') return []
        if ((type === 'checkbox' || type === 'radio') && !input.has('checked')) return []
        if (type === 'file') return [{ name, value: undefined, fileName: 'upload.txt', contentType: 'text/plain' }]
        return [{ name, value: input.get('value') ?? '', fileName: undefined, contentType: undefined }]
      })
      return multipartFromParts(parts, headers, ctx, `the <form> of entry ${found.entry}`)
    }
  }
  ctx.warn(`entry ${ctx.index}: the recording kept none of its ${ctx.bodySize}-byte body (browsers leave uploads and binary bodies out); it sends ${ctx.bodySize} zero bytes: put the real body in the generated test`)
  return {
    body: { kind: 'placeholder', size: ctx.bodySize },
    notes: [`PLACEHOLDER: the recording kept none of this ${ctx.bodySize}-byte body; replace Buffer.alloc(${ctx.bodySize}) with the real bytes.`],
  }
}

interface Part {
  name: string
  /** undefined for a file whose content the recording left out. */
  value: string | undefined
  fileName: string | undefined
  contentType: string | undefined
}

function multipartFromParts(parts: Part[], headers: Record<string, string>, ctx: BodyContext, from: string): HarBody {
  const typeKey = findHeader(headers, 'content-type') ?? 'Content-Type'
  let boundary = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(headers[typeKey] ?? '')?.slice(1).find((b) => b !== undefined)
  if (boundary === undefined) {
    boundary = `----LoadsBoundary${randomBytes(8).toString('hex')}`
    headers[typeKey] = `multipart/form-data; boundary=${boundary}`
  }
  const notes: string[] = []
  const chunks: Buffer[] = []
  for (const part of parts) {
    let disposition = `Content-Disposition: form-data; name="${quote(part.name)}"`
    let value = part.value
    if (part.fileName !== undefined || part.value === undefined) {
      disposition += `; filename="${quote(part.fileName ?? 'upload.txt')}"\r\nContent-Type: ${part.contentType ?? 'application/octet-stream'}`
    }
    if (value === undefined) {
      value = `PLACEHOLDER for the file of field ${part.name}\n`
      ctx.warn(`entry ${ctx.index}: the recording holds no content for the file of field ${JSON.stringify(part.name)}; the generated test uploads a placeholder text: put the real file in`)
      notes.push(`PLACEHOLDER: the file of field "${part.name}" was not recorded; the body carries a stand-in text.`)
    }
    chunks.push(Buffer.from(`--${boundary}\r\n${disposition}\r\n\r\n`), Buffer.from(value, 'utf8'), Buffer.from('\r\n'))
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`))
  notes.unshift(`The multipart body is rebuilt from ${from} with the recorded boundary.`)
  return { body: classifyBody(Buffer.concat(chunks), headers[typeKey]), notes }
}

function quote(text: string): string {
  return text.replace(/"/g, '%22').replace(/\r/g, '%0D').replace(/\n/g, '%0A')
}
