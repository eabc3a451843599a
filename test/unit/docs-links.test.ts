/**
 * The documentation's links hold: every relative link in README.md, docs/ and bench/README.md
 * points at a file that exists, and every #anchor at a heading of that page (GitHub's slugs),
 * so pages can move and be split without leaving a reader at a dead end. The front page stays a
 * front page (≤ 300 lines), and its first commands stay the two .ci/run relies on.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'

const root = path.resolve(import.meta.dirname, '../..')

function markdownFiles(): string[] {
  const files = ['README.md', 'bench/README.md']
  const walk = (dir: string): void => {
    for (const entry of readdirSync(path.join(root, dir), { withFileTypes: true })) {
      const rel = path.join(dir, entry.name)
      if (entry.isDirectory()) {
        if (rel !== path.join('docs', 'api')) walk(rel)
      } else if (entry.name.endsWith('.md')) files.push(rel)
    }
  }
  walk('docs')
  return files
}

/** Text outside fenced code blocks (links inside code are examples, not links). */
function prose(text: string): string {
  return text.replace(/^```[\s\S]*?^```/gm, '')
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
function headingAnchors(text: string): Set<string> {
  const seen = new Map<string, number>()
  const anchors = new Set<string>()
  for (const match of prose(text).matchAll(/^#{1,6} +(.+?) *#*$/gm)) {
    const base = (match[1] ?? '')
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/ /g, '-')
    const n = seen.get(base) ?? 0
    seen.set(base, n + 1)
    anchors.add(n === 0 ? base : `${base}-${n}`)
  }
  return anchors
}

describe('the documentation', () => {
  const files = markdownFiles()

  it('has the pages the front page and the index link to', () => {
    for (const page of ['docs/README.md', 'docs/writing-tests.md', 'docs/running.md', 'docs/performance.md']) {
      expect(files).toContain(page)
    }
  })

  it.each(files)('%s: every relative link and anchor resolves', (file) => {
    const text = readFileSync(path.join(root, file), 'utf8')
    const broken: string[] = []
    for (const match of prose(text).matchAll(/\]\(([^)\s]+)\)/g)) {
      const target = match[1] ?? ''
      if (/^[a-z]+:/i.test(target)) continue
      const [targetPath = '', anchor] = target.split('#')
      const resolved = targetPath === '' ? path.join(root, file) : path.resolve(path.dirname(path.join(root, file)), targetPath)
      if (!existsSync(resolved)) {
        broken.push(`${target} (no such file)`)
        continue
      }
      if (anchor !== undefined && resolved.endsWith('.md')) {
        if (!headingAnchors(readFileSync(resolved, 'utf8')).has(anchor)) broken.push(`${target} (no such heading)`)
      }
    }
    expect(broken).toEqual([])
  })

  it('keeps the front page short, opening with the two commands CI and newcomers run', () => {
    const readme = readFileSync(path.join(root, 'README.md'), 'utf8')
    expect(readme.split('\n').length).toBeLessThanOrEqual(300)
    const ci = readFileSync(path.join(root, '.ci/run'), 'utf8')
    expect(ci).toContain('npm test')
    const firstBlock = /```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? ''
    expect(firstBlock).toMatch(/^npm install && npx loads demo /m)
    expect(firstBlock).toMatch(/^npm install && npm test /m)
  })
})
