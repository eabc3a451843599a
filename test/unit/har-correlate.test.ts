import { describe, expect, it } from 'vitest'
import { correlate, type Correlatable } from '../../src/shell/har/correlate.js'
import type { RequestSpec } from '../../src/shell/request-spec.js'
import { formsIn, inputValue, metaContent } from '../../src/util/html-fields.js'

const spec = (method: string, url: string, extra: Partial<RequestSpec> = {}): RequestSpec => ({ method, url, headers: {}, body: { kind: 'none' }, allowRedirects: false, insecure: false, ...extra })

describe('html-fields: reading a page as generated tests do', () => {
  it('finds input values and meta content in any attribute order and quoting, entities decoded', () => {
    const html = `<form action="/go" method=post><input value='a&amp;b&#39;c' type=hidden name=tok><input name="n" value=plain></form><meta content="m&quot;1" name="csrf-token">`
    expect(inputValue(html, 'tok')).toBe("a&b'c")
    expect(inputValue(html, 'n')).toBe('plain')
    expect(inputValue(html, 'none')).toBeUndefined()
    expect(metaContent(html, 'csrf-token')).toBe('m"1')
    expect(formsIn(html).map((f) => [f.action, f.method, f.inputs.map((i) => i.get('name'))])).toEqual([['/go', 'POST', ['tok', 'n']]])
  })
})

describe('correlate: recorded values a later request sends back', () => {
  it('takes a double-submit token from the cookie the server set, an id from JSON into a URL, and leaves typed values alone', () => {
    const items: Correlatable[] = [
      { spec: spec('POST', 'https://a.test/login', { body: { kind: 'form', fields: { user: 'ada12345', password: 'secret' } } }), response: { status: 200, setCookies: [['XSRF-TOKEN', 'c00kie-t0ken-1234']], text: 'hello ada12345' } },
      { spec: spec('POST', 'https://a.test/api/orders', { headers: { 'X-XSRF-TOKEN': 'c00kie-t0ken-1234' }, body: { kind: 'json', value: { owner: 'ada12345' } } }), response: { status: 201, setCookies: [], text: '{"order":{"id":987654,"ref":"ord_5f3a9c1e"}}' } },
      { spec: spec('GET', 'https://a.test/api/orders/987654?ref=ord_5f3a9c1e'), response: { status: 200, setCookies: [] } },
    ]
    expect(correlate(items)).toBe(3)
    expect(items[0]!.spec.extract).toEqual([{ variable: 'XSRF_TOKEN', kind: 'cookie', args: ['XSRF-TOKEN'], note: 'XSRF_TOKEN: the cookie XSRF-TOKEN set by the response to POST /login (recorded "c00kie-t0ken-1234")' }])
    expect(items[1]!.spec.substitute).toEqual([{ recorded: 'c00kie-t0ken-1234', variable: 'XSRF_TOKEN' }])
    // ada12345 was typed by the user (sent before any response carried it): not correlated.
    expect(items[1]!.spec.substitute?.some((s) => s.recorded === 'ada12345')).toBe(false)
    expect(items[1]!.spec.extract?.map((e) => [e.variable, e.kind, e.args])).toEqual([
      ['ref', 'json', [['order', 'ref']]],
      ['id', 'json', [['order', 'id']]],
    ])
    expect(items[2]!.spec.substitute).toEqual([
      { recorded: 'ord_5f3a9c1e', variable: 'ref' },
      { recorded: '987654', variable: 'id', wholeSegment: true },
    ])
  })

  it('falls back to the text around a token in a body it cannot read as HTML fields or JSON, checked on the recorded body', () => {
    const items: Correlatable[] = [
      { spec: spec('GET', 'https://a.test/page'), response: { status: 200, setCookies: [], text: 'var cfg = {session: "s3ss10n-abcdef"};' } },
      { spec: spec('GET', 'https://a.test/api?s=s3ss10n-abcdef'), response: { status: 200, setCookies: [] } },
    ]
    expect(correlate(items)).toBe(1)
    expect(items[0]!.spec.extract).toEqual([{ variable: 'value', kind: 'between', args: ['n: "', '"'], note: 'value: the text between "n: \\"" and "\\"" in the response to GET /page (recorded "s3ss10n-abcdef")' }])
  })
})
