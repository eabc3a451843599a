/**
 * The HTML around the front end: the static report inlines the bundle and embeds its data (one
 * file that opens from disk with no network: its Content-Security-Policy forbids any request);
 * the dashboard's page links the bundle it serves and follows the event stream.
 */
import { createHash } from 'node:crypto'
import type { PageData } from '../page-data.js'
import type { UiAssets } from './ui-assets.js'

/** One self-contained HTML file: the bundle inlined, the data embedded as JSON. */
export function renderStaticPage(data: PageData, assets: UiAssets, title: string): string {
  const script = inlineSafe(assets.js)
  const hash = createHash('sha256').update(script).digest('base64')
  const csp = `default-src 'none'; script-src 'sha256-${hash}'; style-src 'unsafe-inline'; img-src data:; font-src data:; connect-src 'none'; base-uri 'none'; form-action 'none'`
  return page(title, `<meta http-equiv="Content-Security-Policy" content="${csp}">\n<style>${inlineSafe(assets.css)}</style>`, data, `<script>${script}</script>`)
}

/** The dashboard's page: the bundle is served beside it (`assets/…`). */
export function renderLivePage(title: string): string {
  return page(title, '<link rel="stylesheet" href="assets/loads-ui.css">', { kind: 'live' }, '<script src="assets/loads-ui.js"></script>')
}

function page(title: string, head: string, data: PageData, script: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>${escapeHtml(title)}</title>
${head}
</head>
<body>
<div id="app"></div>
<script id="loads-data" type="application/json">${embedJson(data)}</script>
${script}
</body>
</html>
`
}

/**
 * JSON that can sit inside a <script> element: no `<`, `>` or `&` (so no `</script>` or
 * `<!--` can end it early), and no U+2028/2029. JSON.parse reads it back unchanged.
 */
export function embedJson(data: unknown): string {
  return JSON.stringify(data)
    .replaceAll('<', '\\u003c')
    .replaceAll('>', '\\u003e')
    .replaceAll('&', '\\u0026')
    .replaceAll('\u2028', '\\u2028')
    .replaceAll('\u2029', '\\u2029')
}

/** Bundled code or CSS inlined in HTML must not close its element. */
function inlineSafe(code: string): string {
  return code.replace(/<\/(script|style)/gi, '<\\/$1').replaceAll('<!--', '<\\!--')
}

export function escapeHtml(s: string): string {
  return s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;').replaceAll("'", '&#39;')
}
