import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { formatJunit } from '../../src/report/files/junit-output.js'
import { buildResult, runMeta, type RunResult } from '../../src/report/result.js'
import { judgeThresholds } from '../../src/report/thresholds/judge.js'
import { parseThreshold } from '../../src/report/thresholds/threshold.js'
import { Aggregator } from '../../src/stats/aggregator.js'
import { Recorder } from '../../src/stats/recorder.js'

const SCHEMAS = {
  'junit-10.xsd (Jenkins xUnit)': path.resolve(import.meta.dirname, '../fixtures/junit/junit-10.xsd'),
  'ant-junit.xsd (Apache Ant)': path.resolve(import.meta.dirname, '../fixtures/junit/ant-junit.xsd'),
}
const dir = mkdtempSync(path.join(os.tmpdir(), 'loads-junit-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** xmllint's verdict on `xml` against `xsd`: '' when valid, its complaints otherwise. */
function xmllint(xml: string, xsd: string): string {
  const file = path.join(dir, `r${Math.random().toString(36).slice(2)}.xml`)
  writeFileSync(file, xml)
  try {
    execFileSync('xmllint', ['--noout', '--schema', xsd, file], { stdio: 'pipe' })
    return ''
  } catch (err) {
    return String((err as { stderr?: Buffer }).stderr ?? err)
  }
}

/** Two tests: test_a passes 30 runs of 20 ms, test_b fails 5 of 30 and errs 2 (of 60 ms). */
function run(opts: { interrupted?: boolean; thresholds?: string[]; name?: string } = {}): RunResult {
  let now = 1_700_000_000_000
  const rec = new Recorder({ source: 'w', now: () => now })
  const name = opts.name ?? 'TestApi'
  for (let i = 0; i < 30; i++) {
    rec.recordHit('GET', '/x', i % 10 === 0 ? 500 : 200, 3000, 1000, 0, 10, 0, null)
    rec.recordTest('pass', `${name}.test_a`, undefined, 20_000)
    const outcome = i < 5 ? 'failure' : i < 7 ? 'error' : 'pass'
    rec.recordTest(outcome, `${name}.test_b`, outcome === 'pass' ? undefined : outcome === 'failure' ? { kind: 'AssertionError', message: `bad ${i % 2} <&> \x1b "q"`, stack: 'at test_b (t.ts:9:3)' } : { kind: 'TypeError', message: `bad ${i % 2} <&> \x1b "q"`, stack: 'at test_b (t.ts:9:3)', hint: 'define <x> first' }, 60_000)
    rec.recordCheck('status is 200', i % 10 !== 0)
    rec.recordCheck('body <ok> & "quoted"', true)
  }
  now += 3000
  const agg = new Aggregator({ startMs: 1_700_000_000_000 })
  agg.add(rec.snapshot(true))
  const summary = agg.summary()
  return buildResult(
    runMeta({ runId: 'r', address: `t.${name}`, tests: [{ className: name, methodName: 'test_a' }, { className: name, methodName: 'test_b' }], plan: { steps: [{ users: 1, hits: 30 }] }, mode: 'local', workers: 1, startMs: 1_700_000_000_000 }),
    { summary, exitCode: opts.interrupted === true ? 130 : 1, interrupted: opts.interrupted === true, notes: [], thresholds: judgeThresholds((opts.thresholds ?? []).map(parseThreshold), summary) },
    agg,
    '0.0.0',
  )
}

describe('the JUnit file', () => {
  const cases: [string, RunResult][] = [
    ['a finished run with thresholds', run({ thresholds: ['p95<1s', 'errors<1%'] })],
    ['an interrupted run', run({ interrupted: true })],
    ['odd names', run({ name: 'Test<Odd>&"Name"' })],
  ]
  for (const [label, result] of cases) {
    for (const [schema, xsd] of Object.entries(SCHEMAS)) {
      it(`is valid against ${schema}: ${label}`, () => {
        expect(xmllint(formatJunit(result, 'ci-host'), xsd)).toBe('')
      })
    }
  }

  it('gives each check a testcase that fails when any evaluation failed', () => {
    const xml = formatJunit(run(), 'ci-host')
    expect(xml).toContain('<testsuite name="loads: checks" package="loads" id="1" ')
    expect(xml).toContain('<testcase classname="checks" name="status is 200" time="0.000">')
    expect(xml).toContain('<failure message="status is 200: failed 3 of 30 times" type="CheckFailed"></failure>')
    expect(xml).toContain('<testcase classname="checks" name="body &lt;ok&gt; &amp; &quot;quoted&quot;" time="0.000"/>')
    expect(xml).toContain('<property name="status is 200.passes" value="27"/>')
  })

  it("gives exact counts and each testcase its own run's time, not the whole run", () => {
    const xml = formatJunit(run(), 'ci-host')
    expect(xml).toContain('<property name="TestApi.test_b.runs" value="30"/>')
    expect(xml).toContain('<property name="TestApi.test_b.failures" value="5"/>')
    expect(xml).toContain('<property name="TestApi.test_b.errors" value="2"/>')
    expect(xml).toMatch(/<testcase classname="TestApi" name="test_a" time="0\.02\d"\/>/)
    expect(xml).toMatch(/<testcase classname="TestApi" name="test_b" time="0\.06\d">/)
    expect(xml).toContain('<error message="erred 2 of 30 runs (and 5 failed); first: TypeError: bad 1 &lt;&amp;&gt;  &quot;q&quot;" type="TypeError">')
    // Each group's whole message, the hint the error gave, and its stack.
    expect(xml).toContain('1× TypeError: bad 1 &lt;&amp;&gt;  &quot;q&quot;\nhint: define &lt;x&gt; first\nat test_b (t.ts:9:3)')
    expect(xml).toContain('<property name="failedHits" value="3"/>')
  })

  it('marks an interrupted run: its state, and an Interrupted error on tests that otherwise passed', () => {
    const xml = formatJunit(run({ interrupted: true }), 'ci-host')
    expect(xml).toContain('<property name="state" value="interrupted"/>')
    expect(xml).toMatch(/<testcase classname="TestApi" name="test_a" time="[\d.]+">\n {6}<error message="the run was interrupted before its plan ended \(30 runs of this test\)" type="Interrupted">/)
    expect(xml).toContain('<system-out>state: interrupted (cut short: not every planned run happened)')
  })
})
