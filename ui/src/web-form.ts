/**
 * `loads-runner TEST --web` on the page (docs/live-control.md): the form that starts a run
 * (users, runs per user or duration, ramp-up, rate, server URL; defaults from the runner's flags)
 * and, once a run is over, its downloads and a New run button. Locust's start form, in Loads.
 */
import { h, text } from './dom.js'

/** What `GET api/run` says of a --web runner. */
export interface WebInfo {
  defaults: Record<string, string>
  /** A finished run's results can be downloaded. */
  result: boolean
}

const FIELDS: { key: string; label: string; hint: string }[] = [
  { key: 'users', label: 'Users', hint: 'closed model: users running at once (10, or steps 10:20)' },
  { key: 'hits', label: 'Runs per user', hint: 'each user runs the test this many times…' },
  { key: 'duration', label: 'Duration', hint: '…or loops this long: 30s, 2m' },
  { key: 'rampUp', label: 'Ramp-up', hint: 'users start spread over: 10s' },
  { key: 'rate', label: 'Rate (runs/s)', hint: 'open model instead of users: runs started per second' },
  { key: 'serverUrl', label: 'Server URL', hint: 'base URL for relative URLs' },
]

/** Renders the start form into `root`; Start posts `api/start` and reloads to follow the run. */
export function renderStartForm(root: HTMLElement, address: string, web: WebInfo): void {
  const inputs = new Map<string, HTMLInputElement>()
  const message = h('p', { class: 'control-message', role: 'status' })
  const start = h('button', { type: 'submit', class: 'web-start' }, 'Start')
  const form = h(
    'form',
    { class: 'web-form panel' },
    h('h2', {}, 'New run'),
    ...FIELDS.map(({ key, label, hint }) => {
      const input = h('input', { id: `web-${key}`, name: key, type: 'text', value: web.defaults[key] ?? '', placeholder: hint, autocomplete: 'off' })
      inputs.set(key, input)
      return h('div', { class: 'web-field' }, h('label', { for: `web-${key}` }, label), input, h('span', { class: 'web-hint' }, hint))
    }),
    h('div', { class: 'web-actions' }, start, message),
  )
  form.addEventListener('submit', (ev) => {
    ev.preventDefault()
    void (async () => {
      start.disabled = true
      const body = Object.fromEntries([...inputs].map(([k, input]) => [k, input.value]))
      const res = await fetch('api/start', { method: 'POST', headers: { 'content-type': 'application/json', 'x-loads-by': 'page' }, body: JSON.stringify(body) })
      if (res.ok) {
        location.reload()
        return
      }
      const answer = (await res.json().catch(() => ({}))) as { error?: string }
      text(message, answer.error ?? `HTTP ${res.status}`)
      start.disabled = false
    })()
  })
  root.replaceChildren(
    h('header', { class: 'top' }, h('div', { class: 'brand' }, 'Loads'), h('div', { class: 'heading' }, h('h1', { class: 'address' }, address), h('div', { class: 'subtitle' }, 'no run yet: set the load and press Start'))),
    h('main', {}, form),
  )
  document.title = `Loads: ${address}`
}

/** The bar shown once a --web run is over: downloads of its results, and a new run. */
export function afterRunBar(onNew: () => void): HTMLElement {
  const again = h('button', { type: 'button', class: 'web-new' }, 'New run')
  again.addEventListener('click', onNew)
  return h(
    'div',
    { class: 'web-after', 'data-web-after': '' },
    h('a', { href: 'api/report.html', download: '' }, 'Download the report (HTML)'),
    h('a', { href: 'api/result.json', download: '' }, 'Download the results (JSON)'),
    again,
  )
}
