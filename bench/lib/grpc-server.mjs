// The gRPC scenes' server: bench/peers/grpc-server.mjs (grpc-js serving bench/grpc/bench.proto),
// started fresh for each run, with its own count of the calls it answered.
import { spawn } from 'node:child_process'
import http from 'node:http'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { pinned } from './args.mjs'

const root = fileURLToPath(new URL('../..', import.meta.url))
/** Servers still running: killed when the harness exits, also after an error. */
const servers = new Set()
process.once('exit', () => {
  for (const server of servers) server.kill('SIGKILL')
})

/** The server's own count of calls answered, read over its plain HTTP counter. */
class CallCount {
  constructor(port) {
    this.agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
    this.url = `http://127.0.0.1:${port}/count`
  }
  requests() {
    return new Promise((resolve, reject) => {
      http
        .get(this.url, { agent: this.agent }, (res) => {
          let body = ''
          res.on('data', (d) => (body += d))
          res.on('end', () => resolve(Number(body)))
        })
        .on('error', reject)
    })
  }
  close() {
    this.agent.destroy()
  }
}

/**
 * Starts a server (pinned to `core`, or not pinned with null) and waits for its ports: `target`
 * for clients, `count.requests()` for the calls it answered, `stop()` to end it.
 */
export async function startGrpcServer(core) {
  const server = spawn(...pinned(core, process.execPath, [join(root, 'bench/peers/grpc-server.mjs')]), { stdio: ['ignore', 'pipe', 'inherit'], cwd: root })
  servers.add(server)
  server.once('exit', () => servers.delete(server))
  const ports = await new Promise((resolve, reject) => {
    let out = ''
    server.stdout.on('data', (d) => {
      out += d
      if (out.includes('\n')) resolve(out.trim().split(' ').map(Number))
    })
    server.once('exit', (code) => reject(new Error(`grpc server exited (${code})`)))
  })
  const count = new CallCount(ports[1])
  return {
    target: `127.0.0.1:${ports[0]}`,
    count,
    stop: () => {
      count.close()
      server.kill('SIGTERM')
    },
  }
}
