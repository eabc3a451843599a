// Where a bench script leaves its figures: one JSON file per run in the results folder, named by
// the script and the time it finished, so runs never overwrite each other and sort by date.
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

/**
 * Writes `data` as `<outDir>/<prefix><date, to the second, with '-' for ':'>[-smoke].json`
 * (creating the folder) and returns the file's path.
 */
export function writeResults({ outDir, prefix, date, smoke }, data) {
  mkdirSync(outDir, { recursive: true })
  const stamp = date.toISOString().replace(/:/g, '-').replace(/\..*/, '')
  const file = join(outDir, `${prefix}${stamp}${smoke ? '-smoke' : ''}.json`)
  writeFileSync(file, `${JSON.stringify(data, null, 2)}\n`)
  return file
}
