import { PassThrough } from 'node:stream'
import { createInterface } from 'node:readline'

/**
 * Feeds piped input to the REPL one line at a time, the next only once the REPL is ready for it.
 * node:repl reads every line it is given at once and evaluates the next while a request of the
 * previous one is still in flight: `get /a` then `.save a.ts` would save before /a answered,
 * and `.exit` would end the shell under it. A terminal needs none of this: people wait.
 */
export class LineFeeder {
  /** What the REPL reads. */
  readonly stream = new PassThrough()
  readonly #lines: string[] = []
  #ended = false
  #ready = true
  #closed = false

  constructor(source: NodeJS.ReadableStream) {
    const lines = createInterface({ input: source, crlfDelay: Infinity, terminal: false })
    lines.on('line', (line) => {
      this.#lines.push(line)
      this.#pump()
    })
    lines.on('close', () => {
      this.#ended = true
      this.#pump()
    })
  }

  /** The REPL showed its prompt: it has finished with the last line. */
  ready(): void {
    this.#ready = true
    this.#pump()
  }

  /** Stops feeding (the shell is exiting). */
  close(): void {
    this.#closed = true
    this.#lines.length = 0
  }

  #pump(): void {
    if (!this.#ready || this.#closed) return
    const line = this.#lines.shift()
    if (line !== undefined) {
      this.#ready = false
      this.stream.write(`${line}\n`)
    } else if (this.#ended) {
      this.#closed = true
      this.stream.end()
    }
  }
}
