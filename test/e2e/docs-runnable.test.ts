/**
 * Every code block marked ```ts runnable in README.md and docs/ is a whole test module: each is
 * run with loads-runner against the demo target, and must pass with every hit counted by the
 * target. Blocks address the demo target at its default URL, http://127.0.0.1:8089; the test
 * points that at a demo target on a free port.
 */
import { readFileSync, readdirSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startDemoServer, type DemoServer } from '../../src/demo/demo-server.js'
import { LOADS_RUNNER, ROOT, runBin, tempProject, testResult } from '../helpers/cli.js'

function runnableBlocks(): Array<[string, string]> {
  const files = ['README.md', ...readdirSync(path.join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)]
  const blocks: Array<[string, string]> = []
  for (const file of files) {
    const text = readFileSync(path.join(ROOT, file), 'utf8')
    let n = 0
    for (const m of text.matchAll(/^```ts runnable\n([\s\S]*?)^```/gm)) blocks.push([`${file} #${++n}`, m[1]!])
  }
  return blocks
}

describe('runnable code blocks in the docs', () => {
  const blocks = runnableBlocks()
  let demo: DemoServer
  beforeAll(async () => {
    demo = await startDemoServer()
  })
  afterAll(() => demo.close())

  it('there are some', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(3)
  })

  it.each(blocks)('%s passes against the demo target', async (_name, code) => {
    const dir = tempProject({ 'doc_test.ts': code.replaceAll('http://127.0.0.1:8089', demo.url) })
    const before = demo.count()
    const r = await runBin(LOADS_RUNNER, ['doc_test.ts', '-u', '2', '-c', '2', '-q'], { cwd: dir })
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const result = testResult(r.stdout)
    expect(result?.errors).toBe(0)
    expect(result?.failures).toBe(0)
    const hits = Number(/^Hits: (\d+) /m.exec(r.stdout)?.[1])
    expect(hits).toBeGreaterThan(0)
    expect(demo.count() - before).toBe(hits)
  })
})
