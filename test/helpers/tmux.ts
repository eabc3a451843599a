import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'

/** Whether tmux is here to give a program a real pseudo-terminal. */
export const HAS_TMUX = (() => {
  try {
    execFileSync('tmux', ['-V'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
})()

/**
 * A program in a pseudo-terminal: a detached tmux session of our own (a unique name, on its own
 * socket, so a user's tmux server is never touched), driven by send-keys and read with
 * capture-pane. `kill()` ends this session only.
 */
export class TmuxSession {
  readonly name = `loads-test-${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`
  readonly #socket = `loads-test-${process.pid}`
  readonly #socketPath: string
  /** Where the shell running the command writes its exit status (tmux's own pane status can lag). */
  readonly #statusFile = path.join(os.tmpdir(), `${this.name}.status`)

  constructor(command: string, options: { cwd: string; width?: number; height?: number; limitSeconds?: number }) {
    // Bounded: a test run killed before its afterEach must not leave a shell waiting for keys forever.
    const wrapped = `timeout --foreground ${options.limitSeconds ?? 180} sh -c '${command.replace(/'/g, `'\\''`)}'; echo $? > ${this.#statusFile}`
    this.#tmux(['new-session', '-d', '-s', this.name, '-x', String(options.width ?? 160), '-y', String(options.height ?? 50), '-c', options.cwd, wrapped])
    // Keep the pane (and what it shows) after the program exits.
    this.#tmux(['set-option', '-t', this.name, 'remain-on-exit', 'on'])
    this.#socketPath = this.#tmux(['display-message', '-p', '-t', this.name, '#{socket_path}']).trim()
  }

  /** Types text (literally), then the named keys (`Enter`, `Tab`, `Up`, `C-c` …). */
  send(text: string, ...keys: string[]): void {
    if (text !== '') this.#tmux(['send-keys', '-t', this.name, '-l', text])
    if (keys.length > 0) this.#tmux(['send-keys', '-t', this.name, ...keys])
  }

  /** Everything the pane shows, scroll-back included, lines joined where the terminal wrapped them. */
  screen(): string {
    return this.#tmux(['capture-pane', '-p', '-J', '-S', '-', '-t', this.name])
  }

  /** Polls the screen until `test` holds (or fails after `timeoutMs`, showing the screen). */
  async waitFor(test: string | RegExp | ((screen: string) => boolean), timeoutMs = 20_000): Promise<string> {
    const check = typeof test === 'function' ? test : typeof test === 'string' ? (s: string) => s.includes(test) : (s: string) => test.test(s)
    const deadline = Date.now() + timeoutMs
    let screen = ''
    while (Date.now() < deadline) {
      screen = this.screen()
      if (check(screen)) return screen
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    throw new Error(`timed out waiting for ${String(test)} on the terminal; it shows:\n${screen}`)
  }

  /** The command's exit status once it has exited, else undefined. */
  exitStatus(): number | undefined {
    if (!existsSync(this.#statusFile)) return undefined
    const text = readFileSync(this.#statusFile, 'utf8').trim()
    return text === '' ? undefined : Number(text)
  }

  kill(): void {
    try {
      this.#tmux(['kill-session', '-t', this.name])
    } catch {
      // Already gone.
    }
    rmSync(this.#statusFile, { force: true })
    try {
      this.#tmux(['list-sessions'])
    } catch {
      // Our tmux server left with its last session: its socket file need not stay behind.
      if (this.#socketPath !== '') rmSync(this.#socketPath, { force: true })
    }
  }

  #tmux(args: string[]): string {
    return execFileSync('tmux', ['-L', this.#socket, ...args], { encoding: 'utf8' })
  }
}
