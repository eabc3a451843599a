#!/usr/bin/env node
// Records the HAR fixtures in test/fixtures/har/journeys/: real Chromium (Debian's, through
// playwright-core) walking through test/helpers/strict-app.mjs, one HAR per journey. Rerun it
// when the app changes: `node scripts/record-har-journeys.mjs`. Everything stays on 127.0.0.1.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright-core'
import { startStrictApp } from '../test/helpers/strict-app.mjs'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const OUT = path.join(ROOT, 'test', 'fixtures', 'har', 'journeys')

async function signIn(page, origin) {
  await page.goto(`${origin}/`)
  await page.click('text=Sign in')
  await page.fill('input[name=username]', 'ada')
  await page.fill('input[name=password]', 'secret')
  await Promise.all([page.waitForURL(`${origin}/items`), page.click('button')])
  await page.waitForFunction(() => document.title.startsWith('Items ('))
}

async function addItem(page, name) {
  await page.fill('input[name=name]', name)
  await Promise.all([page.waitForURL(/\/items\/[0-9a-f]{24}$/), page.click('text=Add')])
}

/** Each journey: what a user does, from a fresh browser profile. */
const JOURNEYS = {
  'create-delete': async (page, origin) => {
    await signIn(page, origin)
    await addItem(page, 'teapot')
    await Promise.all([page.waitForURL(`${origin}/items`), page.click('#del')])
    await page.waitForFunction(() => document.title.startsWith('Items ('))
  },
  upload: async (page, origin) => {
    await signIn(page, origin)
    await addItem(page, 'photo')
    await page.setInputFiles('input[type=file]', { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('first line\nsecond line\n') })
    await Promise.all([page.waitForNavigation(), page.click('text=Upload')])
  },
  'binary-put': async (page, origin) => {
    await signIn(page, origin)
    await addItem(page, 'blob')
    await page.click('#blob')
    await page.waitForFunction(() => document.title === 'saved')
  },
  revisit: async (page, origin) => {
    await signIn(page, origin)
    await page.goto(`${origin}/items`)
    await page.waitForFunction(() => document.title.startsWith('Items ('))
  },
}

mkdirSync(OUT, { recursive: true })
const app = await startStrictApp()
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
})
try {
  for (const [name, walk] of Object.entries(JOURNEYS)) {
    const file = path.join(OUT, `${name}.har`)
    const context = await browser.newContext({ recordHar: { path: file, content: 'embed' } })
    const page = await context.newPage()
    await walk(page, app.origin)
    await context.close()
    // Stable diffs: pretty-printed, one trailing newline.
    writeFileSync(file, `${JSON.stringify(JSON.parse(readFileSync(file, 'utf8')), null, 1)}\n`)
    console.log(`recorded ${path.relative(ROOT, file)}`)
  }
  console.log(`refusals while recording: ${JSON.stringify(app.stats.refused)}`)
} finally {
  await browser.close()
  await app.close()
}
