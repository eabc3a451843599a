import { describe, expect, it } from 'vitest'
import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { embedJson } from '../../src/report/html/render-page.js'

const UI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'ui', 'src')

describe('the front end source', () => {
  it('never turns text into markup: no innerHTML, outerHTML, insertAdjacentHTML or document.write', () => {
    for (const file of readdirSync(UI).filter((f) => f.endsWith('.ts'))) {
      const code = readFileSync(path.join(UI, file), 'utf8').replace(/^\s*(\/\/|\*|\/\*\*).*$/gm, '')
      expect(code, file).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write/)
    }
  })

  it('loads nothing from the network: no http(s) URL in the code', () => {
    for (const file of readdirSync(UI)) {
      const code = readFileSync(path.join(UI, file), 'utf8')
      expect(code, file).not.toMatch(/https?:\/\//)
    }
  })
})

describe('embedJson', () => {
  it('cannot end its <script> element early, and reads back unchanged', () => {
    const data = { name: '</script><script>alert(1)</script><!-- & \u2028\u2029' }
    const text = embedJson(data)
    expect(text).not.toMatch(/[<>&\u2028\u2029]/)
    expect(JSON.parse(text)).toEqual(data)
  })
})
