#!/usr/bin/env node
// Installs the system programs the test suite drives for real (nats-server for the cluster,
// Chromium for the dashboard and report, nginx and wrk for the benchmark smoke test) when they
// are missing. Debian packages only; nothing is downloaded from anywhere else.
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'

const NEEDED = [
  { bin: 'nats-server', pkg: 'nats-server' },
  { bin: 'chromium', pkg: 'chromium' },
  { bin: 'nginx', pkg: 'nginx', paths: ['/usr/sbin/nginx'] },
  { bin: 'wrk', pkg: 'wrk' },
  // xmllint, which checks the JUnit output against Jenkins xUnit's and Ant's schemas.
  { bin: 'xmllint', pkg: 'libxml2-utils', paths: ['/usr/bin/xmllint'] },
  // h2load, the HTTP/2 peer of the benchmark's TLS and HTTP/2 scenes.
  { bin: 'h2load', pkg: 'nghttp2-client', paths: ['/usr/bin/h2load'] },
  // Locust (and geventhttpclient for its FastHttpUser) for the benchmark smoke test.
  { bin: 'locust', pkg: 'python3-locust', paths: ['/usr/bin/locust'] },
  { bin: 'python3-geventhttpclient', pkg: 'python3-geventhttpclient', paths: ['/usr/lib/python3/dist-packages/geventhttpclient'] },
  // A C compiler for the accuracy benchmark's exact delay server (bench/peers/delay-server.c).
  { bin: 'cc', pkg: 'gcc' },
  { bin: 'libc6-dev', pkg: 'libc6-dev', paths: ['/usr/include/stdio.h'] },
  { bin: 'curl', pkg: 'curl' },
  { bin: 'tmux', pkg: 'tmux' },
  { bin: 'ip', pkg: 'iproute2', paths: ['/usr/sbin/ip', '/sbin/ip'] },
  // The metrics backends the observability outputs are tested against (remote write, line protocol).
  { bin: 'prometheus', pkg: 'prometheus', paths: ['/usr/bin/prometheus'] },
  { bin: 'influxd', pkg: 'influxdb', paths: ['/usr/bin/influxd'] },
]

function has({ bin, paths = [] }) {
  if (paths.some((p) => existsSync(p))) return true
  return spawnSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' }).status === 0
}

const missing = NEEDED.filter((n) => !has(n))
if (missing.length === 0) process.exit(0)

const pkgs = missing.map((m) => m.pkg)
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0
if (!isRoot || !existsSync('/usr/bin/apt-get')) {
  console.error(`The test suite needs: ${pkgs.join(' ')}\nInstall them, e.g.: sudo apt-get install -y ${pkgs.join(' ')}`)
  process.exit(1)
}
console.log(`installing ${pkgs.join(' ')} from Debian…`)
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env })
execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...pkgs], { stdio: 'inherit', env })
