import path from 'node:path'
import { fileURLToPath } from 'node:url'

const OWN_DIST = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

/**
 * Keeps the frames that belong to the user's code: drops Node internals, node_modules and
 * Loads itself, so a traceback points at the test's file:line.
 */
export function userStack(err: Error): string {
  const lines = (err.stack ?? '').split('\n')
  const head: string[] = []
  const frames: string[] = []
  for (const line of lines) {
    if (/^\s+at /.test(line)) {
      if (isUserFrame(line)) frames.push(line.replace(/file:\/\//, ''))
    } else if (frames.length === 0) {
      head.push(line)
    }
  }
  return [...head, ...frames.slice(0, 8)].join('\n')
}

/** `file:line:column` of the first user frame, or undefined. */
export function userLocation(err: Error): string | undefined {
  for (const line of (err.stack ?? '').split('\n')) {
    if (!/^\s+at /.test(line) || !isUserFrame(line)) continue
    const m = /\(?((?:file:\/\/)?[^\s()]+:\d+:\d+)\)?\s*$/.exec(line)
    if (m?.[1]) return m[1].replace(/^file:\/\//, '')
  }
  return undefined
}

function isUserFrame(line: string): boolean {
  if (line.includes('node:internal') || line.includes('(node:') || line.includes(' node:')) return false
  if (line.includes('/node_modules/')) return false
  if (line.includes(OWN_DIST)) return false
  if (line.includes('loads-bundles/test-')) return false
  return true
}
