import { describe, expect, it } from 'vitest'
import { formatSummary } from '../../src/report/console/summary.js'
import { terminalSafe } from '../../src/report/console/terminal-text.js'
import { bundleUi, thirdPartyNotices } from '../../src/report/html/ui-assets.js'
import { Aggregator } from '../../src/stats/aggregator.js'
import { Recorder } from '../../src/stats/recorder.js'
import { redactSecrets } from '../../src/util/redact-secrets.js'

describe('secrets in URLs', () => {
  it('are replaced by *** in query values whose names look secret, and in userinfo', () => {
    expect(redactSecrets('GET http://127.0.0.1:1/x?token=abc123&page=2 failed')).toBe('GET http://127.0.0.1:1/x?token=***&page=2 failed')
    expect(redactSecrets('/s?X-Amz-Signature=deadbeef&X-Amz-Credential=ok&api_key=k&client_secret=s&password=p&code=42&sig=zz&Auth=a'))
      .toBe('/s?X-Amz-Signature=***&X-Amz-Credential=ok&api_key=***&client_secret=***&password=***&code=***&sig=***&Auth=***')
    expect(redactSecrets('connect to https://alice:hunter2@localhost:8443/a refused')).toBe('connect to https://***@localhost:8443/a refused')
    expect(redactSecrets('nothing to hide: /items?id=3&page=2')).toBe('nothing to hide: /items?id=3&page=2')
  })

  it('never reach the summary: they are redacted where test errors enter the stats', () => {
    let now = 0
    const rec = new Recorder({ source: 'w', now: () => now })
    for (const t of ['aaa', 'bbb']) {
      rec.recordTest('error', 'T.test_x', { kind: 'ECONNREFUSED', message: `connect ECONNREFUSED http://u:pw@127.0.0.1:9/x?token=${t}`, stack: `Error: at http://127.0.0.1:9/x?token=${t}\n    at T.test_x (t.ts:3:5)` })
    }
    now = 1000
    const agg = new Aggregator({ startMs: 0 })
    agg.add(rec.snapshot(true))
    const s = agg.summary()
    // Two tokens, one group: the secret no longer splits them either.
    expect(s.errors).toHaveLength(1)
    expect(s.errors[0]).toMatchObject({ count: 2, message: 'connect ECONNREFUSED http://***@127.0.0.1:9/x?token=***' })
    const text = formatSummary(s)
    expect(text).not.toMatch(/aaa|bbb|pw@/)
  })
})

describe('user text in the terminal', () => {
  it('shows control and bidi characters escaped, never raw', () => {
    expect(terminalSafe('/a\x1b]0;owned\x07b\x1b[2J\u202egnp.exe\x9b')).toBe('/a\\x1b]0;owned\\x07b\\x1b[2J\\u202egnp.exe\\x9b')
    expect(terminalSafe('plain /items/{id} é ✓')).toBe('plain /items/{id} é ✓')
  })

  it('in every part of the summary: URL names, error kinds, messages, stacks and counters', () => {
    let now = 0
    const rec = new Recorder({ source: 'w', now: () => now })
    rec.recordHit('GET', '/x\x1b[31mred\nnext', 200, 1000, 500, 0, 1, 1, null)
    rec.recordTest('error', 'T.test_\u202ex', { kind: 'E\x1b', message: 'bad \x1b]8;;http://evil\x07link', stack: 'E\n    at \x1b[2K(t.ts:1:1)' })
    rec.incrCounter('c\x1bount', 1)
    now = 1000
    const agg = new Aggregator({ startMs: 0 })
    agg.add(rec.snapshot(true))
    const text = formatSummary(agg.summary())
    expect(text).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f-\x9f\u202e]/)
    expect(text).toContain('/x\\x1b[31mred\\nnext')
    expect(text).toContain('bad \\x1b]8;;http://evil\\x07link')
    expect(text).toContain('at \\x1b[2K(t.ts:1:1)')
    expect(text).toContain('c\\x1bount')
  })
})

describe('the front end bundle', () => {
  it("keeps uPlot's MIT notice, in the JS and the CSS", () => {
    const notice = thirdPartyNotices()
    expect(notice).toContain('uPlot')
    expect(notice).toContain('Permission is hereby granted, free of charge')
    const { js, css } = bundleUi()
    for (const code of [js, css]) {
      expect(code).toContain('Copyright (c) 2022 Leon Sorokin')
      expect(code).toContain('The above copyright notice and this permission notice shall be included')
    }
  }, 30_000)
})
