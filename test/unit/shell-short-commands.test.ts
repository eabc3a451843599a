import { describe, expect, it } from 'vitest'
import { chooseBody, parseShortCommand } from '../../src/shell/repl/short-commands.js'

describe('parseShortCommand', () => {
  it.each([
    ['get /items', { kind: 'request', verb: 'get', url: '/items', body: '' }],
    ['GET /items?page=2\n', { kind: 'request', verb: 'get', url: '/items?page=2', body: '' }],
    ['post /items {"a":1}', { kind: 'request', verb: 'post', url: '/items', body: '{"a":1}' }],
    ['put https://api.example.com/x  a=1&b=2  ', { kind: 'request', verb: 'put', url: 'https://api.example.com/x', body: 'a=1&b=2' }],
    ['delete /items/3', { kind: 'request', verb: 'delete', url: '/items/3', body: '' }],
    ['head /', { kind: 'request', verb: 'head', url: '/', body: '' }],
    ['options /cors', { kind: 'request', verb: 'options', url: '/cors', body: '' }],
    ['patch /a {\n  "b": 2\n}', { kind: 'request', verb: 'patch', url: '/a', body: '{\n  "b": 2\n}' }],
    ['headers', { kind: 'headers' }],
    ['headers X-Token abc def', { kind: 'set-header', name: 'X-Token', value: 'abc def' }],
    ['headers Authorization: Bearer t', { kind: 'set-header', name: 'Authorization', value: 'Bearer t' }],
    ['headers -X-Token', { kind: 'remove-header', name: 'X-Token' }],
    ['cookies', { kind: 'cookies' }],
    ['cookies clear', { kind: 'clear-cookies' }],
  ])('reads %j', (line, expected) => {
    expect(parseShortCommand(line)).toEqual(expected)
  })

  it.each(['delete obj.key', 'get', 'getItems()', 'const headers = 1', 'headers.x', 'session.get("/x")', 'post(/x/)', 'headers X-Token'])(
    'leaves %j to JavaScript',
    (line) => {
      expect(parseShortCommand(line)).toBeUndefined()
    },
  )
})

describe('chooseBody', () => {
  it('reads JSON, a form, a JavaScript value and text', () => {
    expect(chooseBody('')).toEqual({ kind: 'none' })
    expect(chooseBody('{"a":[1,2]}')).toEqual({ kind: 'json', value: { a: [1, 2] } })
    expect(chooseBody('[1]')).toEqual({ kind: 'json', value: [1] })
    expect(chooseBody('a=1&b=two%20words')).toEqual({ kind: 'form', fields: { a: '1', b: 'two words' } })
    expect(chooseBody("{a: 1, b: 'x'}")).toEqual({ kind: 'expression', source: "{a: 1, b: 'x'}" })
    expect(chooseBody('a=1&a=2')).toEqual({ kind: 'text', text: 'a=1&a=2' })
    expect(chooseBody('hello world')).toEqual({ kind: 'text', text: 'hello world' })
  })
})
