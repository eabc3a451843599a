// The benchmark's server: nginx with one worker process pinned to one core, no access log, a
// 100-byte file and keep-alive connections that are never closed by request count, on 127.0.0.1
// and a free port. Its stub_status counts the requests every tool really made.
import { execFileSync, spawn } from 'node:child_process'
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pinned } from './args.mjs'

/** The body served at `/`: exactly 100 bytes, with the marker the TestCase asserts on. */
export const MARKER = 'loads-bench-ok'
export const BODY = `<!doctype html><title>${MARKER}</title><p>`.padEnd(99, 'x') + '\n'

/** A port nothing listens on right now (nginx binds it a moment later; a clash is retried). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.unref()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })
}

function config(dir, ports, { workers, workerConnections, setCookie, tlsPort }) {
  // With TLS, the plain ports stay (stub_status is read over them) and one more port speaks
  // HTTPS with HTTP/2 offered by ALPN, as most sites do: HTTP/1.1 clients keep HTTP/1.1. TLS 1.3
  // is named: nginx 1.22 (Debian 12) offers only up to TLS 1.2 by default, where every client
  // then picks its own cipher (Node AES-128-GCM, wrk AES-256-GCM).
  const tls = tlsPort === undefined ? '' : `
    listen 127.0.0.1:${tlsPort} ssl http2 reuseport backlog=4096;
    ssl_certificate ${dir}/tls.pem;
    ssl_certificate_key ${dir}/tls.key;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_session_cache shared:SSL:10m;
    http2_max_concurrent_streams 128;
    http2_max_requests 1000000;`
  const listen = ports.map((port) => `    listen 127.0.0.1:${port} reuseport backlog=4096;`).join('\n') + tls
  return `worker_processes ${workers};
worker_rlimit_nofile ${workerConnections + 100};
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections ${workerConnections}; multi_accept on; }
http {
  access_log off;
  default_type text/html;
  keepalive_requests 1000000;
  keepalive_timeout 120s;
  client_body_temp_path ${dir}/tmp/body;
  proxy_temp_path ${dir}/tmp/proxy;
  fastcgi_temp_path ${dir}/tmp/fastcgi;
  uwsgi_temp_path ${dir}/tmp/uwsgi;
  scgi_temp_path ${dir}/tmp/scgi;
  server {
${listen}
    location = /nginx_status { stub_status; }
    location / {
      root ${dir}/www;
      index index.html;${setCookie ? '\n      add_header Set-Cookie "sid=$request_id; Path=/; HttpOnly";' : ''}
    }
  }
}
`
}

/**
 * Starts nginx pinned to `core` (master and worker inherit the affinity; null: any core).
 * Resolves once it answers; `stop()` ends the process it started, by its pid.
 * `ports` > 1 listens on several ports (each gives clients another ~28k ephemeral ports);
 * `setCookie` gives every response a fresh session cookie, so each client fills a cookie jar;
 * `tls` adds `tlsUrl`, an HTTPS port with HTTP/2 (self-signed certificate).
 */
export async function startNginx({ core = 0, nginx = '/usr/sbin/nginx', workers = 1, workerConnections = 4096, ports: portCount = 1, setCookie = false, tls = false } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'loads-bench-nginx-'))
  if (tls) selfSignedCertificate(dir)
  mkdirSync(join(dir, 'www'))
  mkdirSync(join(dir, 'tmp'))
  writeFileSync(join(dir, 'www/index.html'), BODY)
  // The worker drops to an unprivileged user when started as root: it must read the files.
  for (const p of [dir, join(dir, 'www'), join(dir, 'tmp')]) chmodSync(p, 0o755)
  chmodSync(join(dir, 'www/index.html'), 0o644)
  let lastError
  for (let attempt = 0; attempt < 5; attempt++) {
    const ports = []
    while (ports.length < portCount) {
      const p = await freePort()
      if (!ports.includes(p)) ports.push(p)
    }
    const port = ports[0]
    let tlsPort
    while (tls && (tlsPort === undefined || ports.includes(tlsPort))) tlsPort = await freePort()
    writeFileSync(join(dir, 'nginx.conf'), config(dir, ports, { workers, workerConnections, setCookie, tlsPort }))
    const child = spawn(...pinned(core, nginx, ['-p', dir, '-c', join(dir, 'nginx.conf')]), { stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', (d) => (stderr += d))
    const exited = new Promise((resolve) => child.once('exit', resolve))
    // A benchmark stopped by a signal must not leave its nginx behind: its workers first (a
    // SIGKILLed master leaves them serving), then the master. Synchronous: this runs at exit.
    const reap = () => {
      for (const pid of childPids(child.pid)) {
        try {
          process.kill(pid, 'SIGKILL')
        } catch {
          // already gone
        }
      }
      // process.kill, not child.kill: at exit the child's handle may already be closed.
      try {
        process.kill(child.pid, 'SIGKILL')
      } catch {
        // already gone
      }
      rmSync(dir, { recursive: true, force: true })
    }
    process.once('exit', reap)
    exited.then(() => process.removeListener('exit', reap))
    for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => process.exit(130))
    const url = `http://127.0.0.1:${port}`
    const up = await waitUp(url, exited)
    if (up) {
      const status = new StubStatus(url)
      return {
        url,
        urls: ports.map((p) => `http://127.0.0.1:${p}`),
        port,
        /** With `tls`: `https://127.0.0.1:PORT`, HTTPS offering h2 and http/1.1 (self-signed). */
        tlsUrl: tlsPort === undefined ? undefined : `https://127.0.0.1:${tlsPort}`,
        pid: child.pid,
        dir,
        status,
        /** The pid of the worker process (the one pinned core serves requests). */
        workerPid: () => workerPid(child.pid),
        async stop() {
          status.close()
          if (child.exitCode === null) {
            child.kill('SIGQUIT')
            const timer = setTimeout(() => child.kill('SIGKILL'), 3000)
            await exited
            clearTimeout(timer)
          }
          rmSync(dir, { recursive: true, force: true })
        },
      }
    }
    if (child.exitCode === null) child.kill('SIGKILL')
    await exited
    lastError = stderr.trim() || readIfExists(join(dir, 'error.log'))
  }
  rmSync(dir, { recursive: true, force: true })
  throw new Error(`nginx did not start: ${lastError}`)
}

/** A throw-away P-256 certificate for 127.0.0.1 (clients run with --insecure / -k). */
function selfSignedCertificate(dir) {
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'tls.key', '-out', 'tls.pem',
    '-days', '30', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { cwd: dir, stdio: 'ignore' })
  chmodSync(join(dir, 'tls.key'), 0o644)
}

function readIfExists(file) {
  try {
    return readFileSync(file, 'utf8').trim()
  } catch {
    return ''
  }
}

async function waitUp(url, exited) {
  let gone = false
  exited.then(() => (gone = true))
  for (let i = 0; i < 100 && !gone; i++) {
    const ok = await new Promise((resolve) => {
      // No keep-alive: a readiness socket left open would be counted among the tools' connections.
      const req = http.get(`${url}/`, { agent: false, headers: { connection: 'close' } }, (res) => {
        res.resume()
        res.on('end', () => resolve(res.statusCode === 200))
      })
      req.on('error', () => resolve(false))
      req.setTimeout(1000, () => req.destroy())
    })
    if (ok) return true
    await new Promise((r) => setTimeout(r, 50))
  }
  return false
}

function workerPid(masterPid) {
  return childPids(masterPid)[0]
}

/** The pids of nginx's worker processes: the master's children. */
function childPids(masterPid) {
  try {
    return readFileSync(`/proc/${masterPid}/task/${masterPid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number)
  } catch {
    return []
  }
}

/**
 * Reads nginx's own request counter. Each read is itself one request on a kept-alive connection;
 * `requests()` subtracts the reads it made so only the tools' requests are counted.
 */
export class StubStatus {
  #agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
  #reads = 0
  constructor(url) {
    this.url = `${url}/nginx_status`
  }

  /** Requests served so far, not counting this reader's own. */
  async requests() {
    const text = await new Promise((resolve, reject) => {
      const req = http.get(this.url, { agent: this.#agent }, (res) => {
        let body = ''
        res.setEncoding('latin1')
        res.on('data', (d) => (body += d))
        res.on('end', () => resolve(body))
      })
      req.on('error', reject)
      req.setTimeout(5000, () => req.destroy(new Error('stub_status timed out')))
    })
    this.#reads++
    // "Active connections: 1 \nserver accepts handled requests\n 5 5 9 \nReading: …"
    const m = /\n\s*(\d+)\s+(\d+)\s+(\d+)\s*\n/.exec(text)
    if (m === null) throw new Error(`unexpected stub_status: ${text}`)
    this.activeConnections = Number(/Active connections:\s*(\d+)/.exec(text)?.[1] ?? 0) - 1
    return Number(m[3]) - this.#reads
  }

  /** Open client connections at the last `requests()` call (this reader's own left out). */
  activeConnections = 0

  close() {
    this.#agent.destroy()
  }
}
