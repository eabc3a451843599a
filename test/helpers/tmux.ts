import { execFileSync } from 'node:child_process'

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

  constructor(command: string, options: { cwd: string; width?: number; height?: number }) {
    this.#tmux(['new-session', '-d', '-s', this.name, '-x', String(options.width ?? 160), '-y', String(options.height ?? 50), '-c', options.cwd, command])
    // Keep the pane (and what it shows) after the program exits.
    this.#tmux(['set-option', '-t', this.name, 'remain-on-exit', 'on'])
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

  /** Whether the program in the pane has exited, and its status. */
  exitStatus(): number | undefined {
    const [dead, status] = this.#tmux(['display-message', '-p', '-t', this.name, '#{pane_dead} #{pane_dead_status}']).trim().split(' ')
    return dead === '1' ? Number(status) : undefined
  }

  kill(): void {
    try {
      this.#tmux(['kill-session', '-t', this.name])
    } catch {
      // Already gone.
    }
  }

  #tmux(args: string[]): string {
    return execFileSync('tmux', ['-L', this.#socket, ...args], { encoding: 'utf8' })
  }
}
