import { readFileSync, statSync } from 'node:fs'
import { testTemp } from '../helpers/temp.js'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { writeAtomically } from '../../src/util/write-atomically.js'

describe('writing an output file', () => {
  it('replaces a regular file whole', () => {
    const file = path.join(testTemp('loads-out-'), 'r.json')
    writeAtomically(file, 'one')
    writeAtomically(file, 'two')
    expect(readFileSync(file, 'utf8')).toBe('two')
  })

  it('writes into /dev/null and leaves it a device (regression: it was renamed over)', () => {
    writeAtomically('/dev/null', '{"x":1}')
    expect(statSync('/dev/null').isCharacterDevice()).toBe(true)
  })
})
