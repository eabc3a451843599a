import { chromium, type Browser, type Page } from 'playwright-core'

/** Debian's Chromium, headless, with nothing that phones home. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  })
}

/** What a page did that a test may assert on: requests it made, errors it threw, dialogs it opened. */
export interface PageWatch {
  requests: string[]
  errors: string[]
  dialogs: string[]
}

export async function watchedPage(browser: Browser, viewport = { width: 1440, height: 900 }): Promise<{ page: Page; watch: PageWatch }> {
  const page = await browser.newPage({ viewport })
  const watch: PageWatch = { requests: [], errors: [], dialogs: [] }
  page.on('request', (r) => watch.requests.push(r.url()))
  page.on('pageerror', (e) => watch.errors.push(e.message))
  page.on('dialog', (d) => {
    watch.dialogs.push(d.message())
    void d.dismiss()
  })
  return { page, watch }
}

/** The canvases uPlot drew, with their drawn size. */
export function canvasSizes(page: Page): Promise<{ chart: string; width: number; height: number }[]> {
  return page.$$eval('[data-chart] canvas', (els) =>
    els.map((c) => ({ chart: c.closest('[data-chart]')?.getAttribute('data-chart') ?? '', width: (c as HTMLCanvasElement).width, height: (c as HTMLCanvasElement).height })),
  )
}

/** The per-URL table as rows of cell texts. */
export function tableRows(page: Page, id: string): Promise<string[][]> {
  return page.$$eval(`#${id} tbody tr`, (rows) => rows.map((r) => [...r.querySelectorAll('td')].map((td) => td.textContent ?? '')))
}
