/**
 * `--output junit:FILE`: a JUnit XML file for CI. One testcase per test method (it fails if any
 * of its runs failed, errs if any erred) and one per threshold (it fails with what was measured).
 */
import type { ErrorGroup } from '../../stats/types.js'
import type { RunResult } from '../result.js'
import type { OutputFile } from './file-output.js'

export function junitFiles(file: string) {
  return (result: RunResult): OutputFile[] => [{ path: file, content: formatJunit(result) }]
}

interface Case {
  classname: string
  name: string
  timeS: number
  failure?: { message: string; type: string; body: string }
  error?: { message: string; type: string; body: string }
  properties?: Record<string, string | number>
}

export function formatJunit(r: RunResult): string {
  const timeS = r.summary.durationMs / 1000
  const testCount = Math.max(1, r.run.tests.length)
  const tests: Case[] = r.run.tests.map((t) => {
    const id = `${t.className}.${t.methodName}`
    const groups = r.summary.errors.filter((g) => g.test === id)
    const failures = groups.filter((g) => g.outcome === 'failure')
    const errors = groups.filter((g) => g.outcome === 'error')
    const c: Case = {
      classname: t.className,
      name: t.methodName,
      timeS,
      // Every run executes each selected test once: the runs split evenly between them.
      properties: { runs: Math.round(r.summary.tests.run / testCount), failures: total(failures), errors: total(errors) },
    }
    if (failures.length > 0) c.failure = problem(failures, 'failed')
    if (errors.length > 0) c.error = problem(errors, 'erred')
    return c
  })
  const thresholds: Case[] = r.thresholds.map((t) => ({
    classname: 'thresholds',
    name: t.threshold,
    timeS: 0,
    properties: { measured: t.measuredText },
    ...(t.pass ? {} : { failure: { type: 'ThresholdFailed', message: `${t.threshold}: ${t.metric} ${t.measuredText}`, body: '' } }),
  }))
  const suites = [suite(`loads: ${r.run.address}`, tests, timeS, r), ...(thresholds.length > 0 ? [suite('loads: thresholds', thresholds, 0, r)] : [])]
  const all = [...tests, ...thresholds]
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="loads" tests="${all.length}" failures="${all.filter((c) => c.failure).length}" errors="${all.filter((c) => c.error).length}" time="${timeS.toFixed(3)}">`,
    ...suites,
    '</testsuites>',
    '',
  ].join('\n')
}

function suite(name: string, cases: Case[], timeS: number, r: RunResult): string {
  const out = [
    `  <testsuite name="${xml(name)}" tests="${cases.length}" failures="${cases.filter((c) => c.failure).length}" errors="${cases.filter((c) => c.error).length}" skipped="0" time="${timeS.toFixed(3)}" timestamp="${new Date(r.run.startMs).toISOString()}">`,
  ]
  for (const c of cases) {
    out.push(`    <testcase classname="${xml(c.classname)}" name="${xml(c.name)}" time="${c.timeS.toFixed(3)}">`)
    if (c.properties !== undefined) {
      out.push('      <properties>')
      for (const [k, v] of Object.entries(c.properties)) out.push(`        <property name="${xml(k)}" value="${xml(String(v))}"/>`)
      out.push('      </properties>')
    }
    for (const [tag, p] of [['failure', c.failure], ['error', c.error]] as const) {
      if (p !== undefined) out.push(`      <${tag} message="${xml(p.message)}" type="${xml(p.type)}">${xml(p.body)}</${tag}>`)
    }
    out.push('    </testcase>')
  }
  out.push('  </testsuite>')
  return out.join('\n')
}

function problem(groups: ErrorGroup[], verb: string): { message: string; type: string; body: string } {
  const first = groups[0]!
  return {
    type: first.kind,
    message: `${verb} ${total(groups)} times; first: ${first.kind}: ${first.message.split('\n', 1)[0] ?? ''}`,
    body: groups.map((g) => `${g.count}× ${g.kind}: ${g.message}\n${g.stack}`).join('\n\n'),
  }
}

const total = (groups: ErrorGroup[]): number => groups.reduce((n, g) => n + g.count, 0)

/** XML text and attribute escaping; characters XML 1.0 forbids are dropped. */
export function xml(s: string): string {
  return s
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '')
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&apos;')
}
