/**
 * A table of the page that stays fast with thousands of rows: rows are keyed and kept, so an
 * update rewrites only the cells whose text changed (a live run pushes every second); a click on
 * a heading sorts by that column (again: the other way); a filter box keeps the rows whose
 * text contains what was typed. A long table draws only the rows in (and near) its scrolled
 * window, between two spacers as tall as the rows left out, so 2,000 URL names cost what 60
 * rows do; printing draws them all. Cell text is set through `textContent` only, like
 * everything in ui/.
 */
import { h, text } from './dom.js'
import './data-table.css'
import * as f from './format.js'

export interface Column<T> {
  label: string
  /** Right-aligned, sorted as a number. */
  num?: boolean
  /** What the cell says. */
  cell: (row: T) => string
  /** What the column sorts by (default: the cell's text). */
  sortBy?: (row: T) => number | string
  /** Extra class of the cell (e.g. `bad`). */
  cls?: (row: T) => string
  /** Tooltip (the whole text of a long name). */
  title?: (row: T) => string
  /** A class every cell of the column has (`name`, `method`, `statuses` …). */
  kind?: string
  /** A heading tooltip saying what the column measures. */
  help?: string
}

export interface DataTableOptions<T> {
  id: string
  columns: Column<T>[]
  key: (row: T) => string
  /** Said in the one row of an empty table. */
  empty: string
  /** Show a filter box (default true). */
  filter?: boolean
  /** The column sorted by until the reader clicks another (default: the order given). */
  sort?: { col: number; desc: boolean }
  /** `data-…` attributes of each row. */
  rowAttrs?: (row: T) => Record<string, string>
}

/** One collator for every comparison: `localeCompare` with options builds one per call (slow on 2,000 rows). */
const COLLATOR = new Intl.Collator('en', { numeric: true })

/** Height of a row, px (fixed in data-table.css): a long table draws only its scrolled window. */
const ROW_PX = 25
/** Tables with more rows than this draw only their window. */
const WINDOW_FROM = 120
/** Rows drawn above and below the visible ones, so a scroll shows drawn rows at once. */
const OVERSCAN = 8

/** Row elements kept beyond those drawn (a few MB of DOM at most). */
const KEEP_ROWS = 10_000

interface RowState {
  tr: HTMLTableRowElement
  tds: HTMLTableCellElement[]
}

export class DataTable<T> {
  readonly el: HTMLElement
  readonly #opts: DataTableOptions<T>
  readonly #tbody = h('tbody')
  readonly #ths: HTMLElement[]
  readonly #note = h('div', { class: 'table-note', hidden: '' })
  readonly #input: HTMLInputElement
  readonly #rows = new Map<string, RowState>()
  #data: T[] = []
  #sort: { col: number; desc: boolean } | undefined
  #query = ''
  #printing = false
  #emptyRow: HTMLElement | undefined
  readonly #wrap: HTMLElement
  readonly #top = h('tr', { class: 'spacer' }, h('td'))
  readonly #bottom = h('tr', { class: 'spacer' }, h('td'))
  /** The rows after filter and sort, as last drawn (a scroll redraws from them). */
  #ordered: T[] = []
  #scrollQueued = false

  constructor(opts: DataTableOptions<T>) {
    this.#opts = opts
    this.#ths = opts.columns.map((c, i) => {
      const th = h('th', { class: `sortable${c.num === true ? ' num' : ''}`, tabindex: '0', title: c.help ?? `sort by ${c.label}`, 'aria-sort': 'none' }, c.label)
      const sort = (): void => this.sortBy(i)
      th.addEventListener('click', sort)
      th.addEventListener('keydown', (ev) => {
        if (ev.key === 'Enter' || ev.key === ' ') {
          ev.preventDefault()
          sort()
        }
      })
      return th
    })
    this.#input = h('input', { type: 'search', class: 'table-filter', placeholder: 'filter…', 'aria-label': `filter ${opts.id}` })
    this.#input.addEventListener('input', () => {
      this.#query = this.#input.value.trim().toLowerCase()
      this.#render()
    })
    this.#input.hidden = opts.filter === false
    this.#sort = opts.sort
    if (opts.sort !== undefined) this.#ths[opts.sort.col]?.setAttribute('aria-sort', opts.sort.desc ? 'descending' : 'ascending')
    this.#wrap = h('div', { class: 'table-wrap' }, h('table', { id: opts.id, class: 'data' }, h('thead', {}, h('tr', {}, ...this.#ths)), this.#tbody))
    this.el = h('div', { class: 'data-table' }, this.#input, this.#wrap, this.#note)
    for (const sp of [this.#top, this.#bottom]) sp.firstElementChild?.setAttribute('colspan', String(opts.columns.length))
    this.#wrap.addEventListener('scroll', () => {
      if (this.#scrollQueued || this.#ordered.length <= WINDOW_FROM) return
      this.#scrollQueued = true
      requestAnimationFrame(() => {
        this.#scrollQueued = false
        this.#draw()
      })
    })
    // Printing shows every row, not only the scrolled window.
    window.addEventListener('beforeprint', () => {
      this.#printing = true
      this.#render()
    })
    window.addEventListener('afterprint', () => {
      this.#printing = false
      this.#render()
    })
  }

  /** The rows now; the table redraws only what changed. */
  update(rows: T[]): void {
    this.#data = rows
    this.#render()
  }

  /** Sorts by column `col` (descending first for numbers); the same column again reverses. */
  sortBy(col: number): void {
    const numeric = this.#opts.columns[col]?.num === true
    this.#sort = this.#sort?.col === col ? { col, desc: !this.#sort.desc } : { col, desc: numeric }
    this.#ths.forEach((th, i) => th.setAttribute('aria-sort', i !== col ? 'none' : this.#sort?.desc === true ? 'descending' : 'ascending'))
    this.#render()
  }

  #render(): void {
    const { columns } = this.#opts
    let rows = this.#data
    if (this.#query !== '') {
      // A row's search text is its text cells' (names, methods, statuses), lower-cased.
      const texts = columns.filter((c) => c.num !== true)
      rows = rows.filter((r) => texts.some((c) => c.cell(r).toLowerCase().includes(this.#query)))
    }
    const sort = this.#sort
    if (sort !== undefined) {
      const c = columns[sort.col]
      const by = c?.sortBy ?? c?.cell ?? (() => '')
      const keyed = rows.map((r) => ({ r, v: by(r) }))
      keyed.sort((a, b) => {
        const d = typeof a.v === 'number' && typeof b.v === 'number' ? a.v - b.v : COLLATOR.compare(String(a.v), String(b.v))
        return sort.desc ? -d : d
      })
      rows = keyed.map((k) => k.r)
    }
    this.#ordered = rows
    this.#draw()
  }

  /** Draws the ordered rows, or the window of them the reader can scroll to now. */
  #draw(): void {
    const { columns, key } = this.#opts
    const rows = this.#ordered
    let first = 0
    let last = rows.length
    if (!this.#printing && rows.length > WINDOW_FROM) {
      const viewPx = this.#wrap.clientHeight || 420
      first = Math.max(0, Math.floor(this.#wrap.scrollTop / ROW_PX) - OVERSCAN)
      last = Math.min(rows.length, first + Math.ceil(viewPx / ROW_PX) + 2 * OVERSCAN)
    }
    const shown = rows.slice(first, last)
    const seen = new Set<string>()
    const trs: HTMLElement[] = []
    for (const r of shown) {
      const k = key(r)
      seen.add(k)
      const st = this.#state(r)
      columns.forEach((c, i) => {
        const td = st.tds[i]
        if (td === undefined) return
        text(td, c.cell(r))
        const cls = `${c.num === true ? 'num' : ''}${c.kind !== undefined ? ` ${c.kind}` : ''}${c.cls !== undefined ? ` ${c.cls(r)}` : ''}`.trim()
        if (td.className !== cls) td.className = cls
        if (c.title !== undefined) {
          const t = c.title(r)
          if (td.title !== t) td.title = t
        }
      })
      trs.push(st.tr)
    }
    // Rows not drawn now are kept for when they come back (a re-sort, a cleared filter), up to a bound.
    if (this.#rows.size > KEEP_ROWS) for (const k of this.#rows.keys()) if (!seen.has(k)) this.#rows.delete(k)
    if (trs.length === 0) {
      this.#emptyRow ??= h('tr', { class: 'empty' }, h('td', { colspan: String(columns.length) }))
      text(this.#emptyRow.firstElementChild as HTMLElement, this.#data.length === 0 ? this.#opts.empty : 'no row matches the filter')
      trs.push(this.#emptyRow)
    }
    if (first > 0) {
      this.#top.style.height = `${first * ROW_PX}px`
      trs.unshift(this.#top)
    }
    if (last < rows.length) {
      this.#bottom.style.height = `${(rows.length - last) * ROW_PX}px`
      trs.push(this.#bottom)
    }
    // Move rows only when the order changed.
    const current = this.#tbody.children
    let same = current.length === trs.length
    for (let i = 0; same && i < trs.length; i++) same = current[i] === trs[i]
    if (!same) this.#tbody.replaceChildren(...trs)
    this.#note.hidden = rows.length <= WINDOW_FROM && this.#query === ''
    text(this.#note, this.#query !== '' ? `${f.int(rows.length)} of ${f.int(this.#data.length)} rows match` : `${f.int(rows.length)} rows: scroll, sort or filter`)
  }

  /** The kept row of `r`, made on first sight. */
  #state(r: T): RowState {
    const k = this.#opts.key(r)
    let st = this.#rows.get(k)
    if (st === undefined) {
      const tds = this.#opts.columns.map(() => h('td'))
      const tr = h('tr', this.#opts.rowAttrs?.(r) ?? {}, ...tds)
      st = { tr, tds }
      this.#rows.set(k, st)
    }
    return st
  }
}
