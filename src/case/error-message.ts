/**
 * The message an error group shows. An Error thrown with no message (`throw new Error()`,
 * `reject(new CustomError())`) would give a group with an empty message and nothing to go on:
 * it gets its class, its own fields (`code`, `status` …) and its cause instead.
 */

/** Longest description of an error's own fields, in characters. */
const MAX_FIELDS_CHARS = 300

/** `err.message`, or — when it is empty — what the error does say about itself. */
export function errorMessage(err: Error): string {
  if (err.message !== '') return err.message
  const parts: string[] = []
  const ctor = (err as { constructor?: { name?: unknown } }).constructor?.name
  const cls = typeof ctor === 'string' && ctor !== '' ? ctor : err.name
  parts.push(`${cls === err.name || err.name === '' ? cls : `${cls} (name ${err.name})`} thrown with no message`)
  const fields = ownFields(err)
  if (fields !== '') parts.push(`fields ${fields}`)
  const cause = (err as { cause?: unknown }).cause
  if (cause !== undefined) parts.push(`cause: ${cause instanceof Error ? `${cause.name}: ${errorMessage(cause)}` : describe(cause)}`)
  return parts.join('; ')
}

function ownFields(err: Error): string {
  const out: Record<string, unknown> = {}
  for (const key of Object.keys(err)) {
    if (key === 'stack' || key === 'message' || key === 'cause' || key === 'name') continue
    out[key] = (err as unknown as Record<string, unknown>)[key]
  }
  if (Object.keys(out).length === 0) return ''
  const text = describe(out)
  return text.length > MAX_FIELDS_CHARS ? `${text.slice(0, MAX_FIELDS_CHARS)}…` : text
}

function describe(value: unknown): string {
  try {
    return String(JSON.stringify(value) ?? value)
  } catch {
    return String(value)
  }
}
