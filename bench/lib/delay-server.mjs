// The accuracy benchmark's server: bench/peers/delay-server.c, compiled on the fly with the
// machine's C compiler (cc -O2) into a temporary directory, or, when there is none (or it fails),
// the Node server bench/peers/delay-server.mjs — said so, since that one is not exact.
// Both print their port on stdout and answer GET /stats and GET /reset.
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import http from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { pinned } from './args.mjs'

const peers = fileURLToPath(new URL('../peers/', import.meta.url))

/**
 * Compiles the C server; returns { binary, dir } or { error } (why it could not be built).
 * `cc` is tried first, then `gcc` and `clang`.
 */
export function buildCServer() {
  const dir = mkdtempSync(join(tmpdir(), 'loads-bench-delay-'))
  const binary = join(dir, 'delay-server')
  const errors = []
  for (const compiler of ['cc', 'gcc', 'clang']) {
    const r = spawnSync(compiler, ['-O2', '-o', binary, join(peers, 'delay-server.c')], { encoding: 'utf8' })
    if (r.error?.code === 'ENOENT') continue
    if (r.status === 0) return { binary, dir, compiler }
    errors.push(`${compiler}: ${(r.error?.message ?? r.stderr).trim().split('\n').slice(0, 3).join(' ')}`)
  }
  rmSync(dir, { recursive: true, force: true })
  return { error: errors.length === 0 ? 'no C compiler (cc, gcc or clang) on the PATH' : errors.join('; ') }
}

/**
 * Starts the delay server pinned to `core` (null: any core). `spinUs`: how long before an
 * answer is due the C server stops sleeping and polls (see delay-server.c). Resolves to
 * { url, port, pid, kind: 'c' | 'node', note, stats(), reset(), stop() }.
 */
export async function startDelayServer({ delayMs = 50, spinUs, core = 0, forceNode = false, log = () => {} } = {}) {
  let command
  let args
  let kind
  let note
  let cleanup = () => {}
  const built = forceNode ? { error: '--node-server' } : buildCServer()
  if (built.binary !== undefined) {
    command = built.binary
    args = [String(delayMs), ...(spinUs === undefined ? [] : [String(spinUs)])]
    kind = 'c'
    note = `C server (${built.compiler} -O2): answers ${delayMs} ms after the kernel's receive timestamp`
    cleanup = () => rmSync(built.dir, { recursive: true, force: true })
  } else {
    command = process.execPath
    args = [join(peers, 'delay-server.mjs'), String(delayMs)]
    kind = 'node'
    note = `Node server (${forceNode ? 'as asked' : `fallback: ${built.error}`}): GC and event-loop lag make its delays inexact`
    if (!forceNode) log(`the C delay server could not be built (${built.error}): using the Node one, which is not exact`)
  }
  const child = spawn(...pinned(core, command, args), { stdio: ['ignore', 'pipe', 'inherit'] })
  // However the benchmark ends, the server it started ends with it.
  const reap = () => {
    child.kill('SIGKILL')
    cleanup()
  }
  process.once('exit', reap)
  const port = await new Promise((resolve, reject) => {
    child.stdout.once('data', (d) => resolve(Number(String(d).trim())))
    child.once('exit', (code) => reject(new Error(`delay server exited (${code})`)))
  })
  const url = `http://127.0.0.1:${port}`
  // One kept-alive connection for /stats and /reset, closed by stop().
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
  return {
    url,
    port,
    pid: child.pid,
    kind,
    note,
    stats: () => getJson(`${url}/stats`, agent),
    reset: () => getJson(`${url}/reset`, agent),
    stop() {
      agent.destroy()
      process.removeListener('exit', reap)
      child.kill('SIGTERM')
      cleanup()
    },
  }
}

function getJson(address, agent) {
  return new Promise((resolve, reject) => {
    const req = http.get(address, { agent }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (d) => (body += d))
      res.on('end', () => {
        try {
          resolve(JSON.parse(body))
        } catch (err) {
          reject(err)
        }
      })
    })
    req.on('error', reject)
    req.setTimeout(10_000, () => req.destroy(new Error(`${address} did not answer`)))
  })
}
