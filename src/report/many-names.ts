/**
 * Too many distinct URL names: usually URLs that differ only by an id (`/items/1`, `/items/2`
 * …), each of which then gets its own row, counters and histograms — memory, a long report, and
 * per-URL figures too thin to mean anything. The console and the page say so past `MANY_NAMES`,
 * with the fix. Plain data: the front end imports it too.
 */

/** Distinct names past which the console and the page warn (the same bound as `--metrics-max-names`' default). */
export const MANY_NAMES = 200

/** The warning, with what to do (one line, no trailing period). */
export function manyNamesWarning(count: number, soFar = false): string {
  return (
    `${count.toLocaleString('en-US')} distinct URL names${soFar ? ' so far' : ''} (more than ${MANY_NAMES}): each gets its own row and histograms. ` +
    `If they differ only by an id, name them with the request's name option, e.g. session.get(url, { name: '/items/{id}' })`
  )
}
