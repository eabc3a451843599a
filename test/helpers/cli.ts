import { spawn } from 'node:child_process'
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, onTestFinished } from 'vitest'
import { removeKilledRunFolders } from './temp.js'

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
export const LOADS_RUNNER = path.join(ROOT, 'bin', 'loads-runner.js')
export const LOADS = path.join(ROOT, 'bin', 'loads.js')

export interface CliResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

/** Runs a Loads binary as a user would (a real process), in `cwd`, with a time limit. */
export function runBin(
  bin: string,
  args: string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number; onSpawn?: (pid: number) => void; onStdout?: (text: string) => void } = { cwd: ROOT },
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], {
      cwd: options.cwd,
      env: { ...process.env, ...options.env, FORCE_COLOR: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString()
      options.onStdout?.(stdout)
    })
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    if (child.pid) options.onSpawn?.(child.pid)
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000)
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      removeKilledRunFolders(options.env, child.pid, signal)
      resolve({ code, signal, stdout, stderr })
    })
  })
}

/** A Loads process running in the background whose dashboard a test opens. */
export interface DashboardRun {
  /** The dashboard's URL (`http://127.0.0.1:PORT/`) once the process prints its `dashboard:` line; rejects if it ends first. */
  url: Promise<string>
  /** The process's end: its exit code and output. */
  done: Promise<CliResult>
  /** Sends `signal` to the process, if it is still running. */
  kill(signal: NodeJS.Signals): void
}

/**
 * Starts `bin args` (a run with `--dashboard 0`, or an `--attach` that serves one) as runBin
 * does, and reads its dashboard's URL from its output. Call it inside a test: a process still
 * running when the test finishes (an assertion failed midway, or a kept-open dashboard nobody
 * stopped) is killed then, so it never outlives its test nor writes into a removed folder.
 */
export function startDashboardRun(bin: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number }): DashboardRun {
  let resolveUrl: (url: string) => void = () => {}
  let rejectUrl: (err: Error) => void = () => {}
  const url = new Promise<string>((resolve, reject) => ((resolveUrl = resolve), (rejectUrl = reject)))
  // A test that never asks for the URL must not fail on an unhandled rejection.
  url.catch(() => {})
  let pid = 0
  let running = true
  const done = runBin(bin, args, {
    ...options,
    onSpawn: (p) => (pid = p),
    onStdout: (text) => {
      const m = /^dashboard: (http:\/\/127\.0\.0\.1:\d+\/)$/m.exec(text)
      if (m) resolveUrl(m[1]!)
    },
  }).finally(() => (running = false))
  done.then(
    (r) => rejectUrl(new Error(`ended (code ${r.code}, signal ${r.signal}) without printing its dashboard's URL:\n${r.stdout}\n${r.stderr}`)),
    (err: Error) => rejectUrl(err),
  )
  const kill = (signal: NodeJS.Signals): void => {
    if (!running || pid === 0) return
    try {
      process.kill(pid, signal)
    } catch {
      // already gone
    }
  }
  onTestFinished(() => kill('SIGKILL'))
  return { url, done, kill }
}

/**
 * A fresh folder with the given files (no node_modules: the runner must resolve 'loads-runner'
 * itself), removed when the test that made it finishes — or, made while a file's tests are being
 * collected or in a beforeAll, when the file's tests are done.
 */
export function tempProject(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'loads-test-'))
  removeWhenDone(dir)
  for (const [name, content] of Object.entries(files)) {
    const file = path.join(dir, name)
    mkdirSync(path.dirname(file), { recursive: true })
    writeFileSync(file, content)
  }
  return dir
}

/** The `<TestResult run=N errors=E failures=F>` line's numbers. */
export function testResult(stdout: string): { run: number; errors: number; failures: number } | undefined {
  const m = /<TestResult run=(\d+) errors=(\d+) failures=(\d+)>/.exec(stdout)
  return m ? { run: Number(m[1]), errors: Number(m[2]), failures: Number(m[3]) } : undefined
}

/** Folders made by this test file's helpers, removed after its last test. */
const made = new Set<string>()
// This module is imported while a test file is collected: the hook belongs to that file.
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true })
  made.clear()
})

/** Removes `dir` after the current test, or (made in a hook or while collecting) after the file's tests. */
export function removeWhenDone(dir: string): void {
  made.add(dir)
  try {
    onTestFinished(() => {
      rmSync(dir, { recursive: true, force: true })
      made.delete(dir)
    })
  } catch {
    // Not inside a test: the file's afterAll above removes it.
  }
}
