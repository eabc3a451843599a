import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { PACKAGE_ROOT, resolveTestAddress } from '../../src/case/resolve.js'
import { tempProject } from '../helpers/cli.js'

describe('resolving test addresses', () => {
  const dir = tempProject({
    'example.ts': '',
    'other.mts': '',
    'plain.js': '',
    'esm.mjs': '',
    'a/b/c.ts': '',
    'tests/api.ts': '',
  })

  it.each([
    ['example.TestWebSite.test_something', 'example.ts', 'TestWebSite', 'test_something'],
    ['example.TestWebSite', 'example.ts', 'TestWebSite', undefined],
    ['example', 'example.ts', undefined, undefined],
    ['other.Cls.test_x', 'other.mts', 'Cls', 'test_x'],
    ['plain.Cls.test_x', 'plain.js', 'Cls', 'test_x'],
    ['esm.Cls', 'esm.mjs', 'Cls', undefined],
    ['a.b.c.Cls.test_x', 'a/b/c.ts', 'Cls', 'test_x'],
    ['tests/api.ts:Api.test_get', 'tests/api.ts', 'Api', 'test_get'],
    ['tests/api.ts:Api', 'tests/api.ts', 'Api', undefined],
    ['tests/api.ts', 'tests/api.ts', undefined, undefined],
    ['./example.ts', 'example.ts', undefined, undefined],
    // A path without its extension is resolved as a dotted module is.
    ['tests/api:Api.test_get', 'tests/api.ts', 'Api', 'test_get'],
    ['tests/api:Api', 'tests/api.ts', 'Api', undefined],
    ['a/b/c:Cls', 'a/b/c.ts', 'Cls', undefined],
    ['./other:Cls', 'other.mts', 'Cls', undefined],
    ['./esm:Cls', 'esm.mjs', 'Cls', undefined],
  ])('%s → %s %s %s', (address, file, className, methodName) => {
    const r = resolveTestAddress(address, dir)
    expect(r.file).toBe(path.join(dir, file))
    expect(r.className).toBe(className)
    expect(r.methodName).toBe(methodName)
  })

  it('loads.examples.* is the example shipped with the package', () => {
    const r = resolveTestAddress('loads.examples.test_blog.TestWebSite.test_something', dir)
    expect(r.file).toBe(path.join(PACKAGE_ROOT, 'examples', 'test_blog.ts'))
    expect(r).toMatchObject({ className: 'TestWebSite', methodName: 'test_something' })
  })

  it('an unknown module lists every path tried', () => {
    expect(() => resolveTestAddress('nope.Cls.test', dir)).toThrow(
      [
        "test module not found for 'nope.Cls.test'. Tried:",
        ...['nope/Cls/test', 'nope/Cls', 'nope'].flatMap((b) => ['.ts', '.mts', '.js', '.mjs'].map((e) => `  ${path.join(dir, b)}${e}`)),
      ].join('\n'),
    )
  })

  it.each(['a..b', 'tests/api.ts:A.b.c', ' '])('refuses the malformed address %j', (address) => {
    expect(() => resolveTestAddress(address, dir)).toThrow(/bad test address|no test given|not found/)
  })

  it('a missing file given by path says so', () => {
    expect(() => resolveTestAddress('missing/file.ts:A', dir)).toThrow(`test module not found: missing/file.ts (looked for ${path.join(dir, 'missing/file.ts')})`)
  })

  it('a missing path without extension lists every file tried', () => {
    const base = path.join(dir, 'missing/file')
    expect(() => resolveTestAddress('missing/file:A', dir)).toThrow(
      `test module not found: missing/file. Tried:\n  ${base}\n  ${base}.ts\n  ${base}.mts\n  ${base}.js\n  ${base}.mjs`,
    )
  })
})
