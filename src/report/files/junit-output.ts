/**
 * `--output junit:FILE`: a JUnit XML file for CI, valid against both schemas CI tools check it
 * with — Jenkins xUnit's junit-10.xsd and Apache Ant's JUnit schema (test/fixtures/junit/). One
 * testcase per test method (it fails if any of its runs failed, errs if any erred or if the run
 * was cut short), one per check (it fails if any evaluation failed) and one per threshold. Figures
 * go in the suite's `<properties>` (neither schema allows them in a testcase); a testcase's time is
 * one run of that test (its mean), not the run.
 */
import { hostname } from 'node:os'
import type { ErrorGroup } from '../../stats/types.js'
import type { RunResult } from '../result.js'
import type { OutputFile } from './file-output.js'

export function junitFiles(file: string) {
  return (result: RunResult): OutputFile[] => [{ path: file, content: formatJunit(result) }]
}

interface Problem {
  message: string
  type: string
  body: string
}

interface Case {
  classname: string
  name: string
  timeS: number
  /** Ant's schema allows one of them per testcase: an error wins (it says how many failed too). */
  problem?: { tag: 'failure' | 'error'; p: Problem }
}

interface Suite {
  name: string
  cases: Case[]
  timeS: number
  properties: [string, string | number][]
  out: string
}

export function formatJunit(r: RunResult, host = hostname()): string {
  const s = r.summary
  const timeS = s.durationMs / 1000
  const cut = r.state === 'interrupted' || r.state === 'aborted'
  const testCount = Math.max(1, r.run.tests.length)
  const properties: [string, string | number][] = [
    ['state', r.state],
    ['exitCode', r.exitCode],
    ['hits', s.hits],
    ['failedHits', s.failed],
    ['networkErrors', s.networkErrors],
    ['httpFailed', s.httpFailed],
    ['testRuns', s.tests.run],
    ['testFailures', s.tests.failures],
    ['testErrors', s.tests.errors],
  ]
  const tests: Case[] = r.run.tests.map((t) => {
    const id = `${t.className}.${t.methodName}`
    const method = s.methods?.find((m) => m.name === id)
    const groups = s.errors.filter((g) => g.test === id)
    // Exact counts from the per-method figures; without them (older results), from the error
    // groups, which can undercount once groups overflowed.
    const runs = method?.runs ?? Math.round(s.tests.run / testCount)
    const failures = method?.failures ?? total(groups.filter((g) => g.outcome === 'failure'))
    const errors = method?.errors ?? total(groups.filter((g) => g.outcome === 'error'))
    properties.push([`${id}.runs`, runs], [`${id}.failures`, failures], [`${id}.errors`, errors])
    if (method !== undefined) properties.push([`${id}.meanMs`, round(method.duration.mean)], [`${id}.p95Ms`, round(method.duration.p95)])
    const c: Case = { classname: t.className, name: t.methodName, timeS: method !== undefined ? method.duration.mean / 1000 : 0 }
    if (errors > 0) c.problem = { tag: 'error', p: problem(groups.filter((g) => g.outcome === 'error'), 'erred', errors, runs, failures) }
    else if (failures > 0) c.problem = { tag: 'failure', p: problem(groups.filter((g) => g.outcome === 'failure'), 'failed', failures, runs, 0) }
    else if (cut) c.problem = { tag: 'error', p: { type: 'Interrupted', message: `the run was ${r.state} before its plan ended (${runs} runs of this test)`, body: '' } }
    return c
  })
  const thresholds: Case[] = r.thresholds.map((t) => ({
    classname: 'thresholds',
    name: t.threshold,
    timeS: 0,
    ...(t.pass ? {} : { problem: { tag: 'failure' as const, p: { type: 'ThresholdFailed', message: `${t.threshold}: ${t.metric} ${t.measuredText}`, body: '' } } }),
  }))
  // One testcase per check: it fails if any evaluation failed (a check never ends a run).
  const checks: Case[] = (r.summary.checks ?? []).map((c) => ({
    classname: 'checks',
    name: c.name,
    timeS: 0,
    ...(c.failures > 0
      ? { problem: { tag: 'failure' as const, p: { type: 'CheckFailed', message: `${c.name}: failed ${c.failures} of ${c.passes + c.failures} times`, body: '' } } }
      : {}),
  }))
  const lines = [`state: ${r.state}${cut ? ' (cut short: not every planned run happened)' : ''}`, `hits: ${s.hits}, failed: ${s.failed} (network errors ${s.networkErrors}, HTTP ${s.httpFailed})`]
  const suites: Suite[] = [{ name: `loads: ${r.run.address}`, cases: tests, timeS, properties, out: lines.join('\n') }]
  if (checks.length > 0) {
    const props = (r.summary.checks ?? []).flatMap((c): [string, number][] => [[`${c.name}.passes`, c.passes], [`${c.name}.failures`, c.failures]])
    suites.push({ name: 'loads: checks', cases: checks, timeS: 0, properties: props, out: '' })
  }
  // One testcase per scenario: it fails if any of its users' test runs failed or errored.
  const scenarios: Case[] = (r.summary.scenarios ?? []).map((sc) => ({
    classname: 'scenarios',
    name: sc.name,
    timeS: 0,
    ...(sc.failures + sc.errors > 0
      ? { problem: { tag: 'failure' as const, p: { type: 'ScenarioFailed', message: `${sc.name}: ${sc.failures + sc.errors} of ${sc.runs} test runs failed`, body: '' } } }
      : {}),
  }))
  if (scenarios.length > 0) {
    const props = (r.summary.scenarios ?? []).flatMap((sc): [string, number][] => [[`${sc.name}.runs`, sc.runs], [`${sc.name}.hits`, sc.hits], [`${sc.name}.failed`, sc.failed], [`${sc.name}.p95_ms`, sc.latency.p95]])
    suites.push({ name: 'loads: scenarios', cases: scenarios, timeS: 0, properties: props, out: '' })
  }
  if (thresholds.length > 0) {
    suites.push({ name: 'loads: thresholds', cases: thresholds, timeS: 0, properties: thresholds.map((t, i) => [`threshold${i}`, r.thresholds[i]!.measuredText]), out: '' })
  }
  const timestamp = new Date(r.run.startMs).toISOString().slice(0, 19)
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    // Ant's schema allows no attribute here: the totals are the suites'.
    '<testsuites>',
    ...suites.map((x, i) => suite(x, i, timestamp, host)),
    '</testsuites>',
    '',
  ].join('\n')
}

function suite(x: Suite, id: number, timestamp: string, host: string): string {
  const out = [
    `  <testsuite name="${xml(x.name)}" package="loads" id="${id}" timestamp="${timestamp}" hostname="${xml(host || 'localhost')}" tests="${x.cases.length}" failures="${count(x.cases, 'failure')}" errors="${count(x.cases, 'error')}" time="${x.timeS.toFixed(3)}">`,
    '    <properties>',
    ...x.properties.map(([k, v]) => `      <property name="${xml(k)}" value="${xml(String(v))}"/>`),
    '    </properties>',
  ]
  for (const c of x.cases) {
    const open = `    <testcase classname="${xml(c.classname)}" name="${xml(c.name)}" time="${c.timeS.toFixed(3)}"`
    if (c.problem === undefined) {
      out.push(`${open}/>`)
      continue
    }
    const { tag, p } = c.problem
    out.push(`${open}>`, `      <${tag} message="${xml(p.message)}" type="${xml(p.type)}">${xml(p.body)}</${tag}>`, '    </testcase>')
  }
  out.push(`    <system-out>${xml(x.out)}</system-out>`, '    <system-err></system-err>', '  </testsuite>')
  return out.join('\n')
}

function problem(groups: ErrorGroup[], verb: string, n: number, runs: number, failures: number): Problem {
  const first = groups[0]
  const also = failures > 0 ? ` (and ${failures} failed)` : ''
  return {
    type: first?.kind ?? 'Error',
    message: `${verb} ${n} of ${runs} runs${also}${first !== undefined ? `; first: ${first.kind}: ${first.message.split('\n', 1)[0] ?? ''}` : ''}`,
    body: groups.map((g) => `${g.count}× ${g.kind}: ${g.message}\n${g.hint !== undefined ? `hint: ${g.hint}\n` : ''}${g.stack}`).join('\n\n'),
  }
}

const count = (cases: Case[], tag: 'failure' | 'error'): number => cases.filter((c) => c.problem?.tag === tag).length
const total = (groups: ErrorGroup[]): number => groups.reduce((n, g) => n + g.count, 0)
const round = (n: number): number => Math.round(n * 1000) / 1000

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
