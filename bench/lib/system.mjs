// What the benchmark needs on the machine, installed from Debian (and npm for autocannon) when
// missing, and a description of the machine for the results file.
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import os from 'node:os'
import { createRequire } from 'node:module'

const DEBIAN = [
  { name: 'wrk', pkg: 'wrk', present: () => onPath('wrk') },
  { name: 'nginx', pkg: 'nginx', present: () => existsSync('/usr/sbin/nginx') || onPath('nginx') },
  { name: 'h2load', pkg: 'nghttp2-client', present: () => existsSync('/usr/bin/h2load') || onPath('h2load') },
  { name: 'taskset', pkg: 'util-linux', present: () => onPath('taskset') },
  { name: 'locust', pkg: 'python3-locust', present: () => existsSync('/usr/bin/locust') },
  {
    name: 'geventhttpclient',
    pkg: 'python3-geventhttpclient',
    present: () => spawnSync('/usr/bin/python3', ['-c', 'import geventhttpclient'], { stdio: 'ignore' }).status === 0,
  },
]

function onPath(bin) {
  return spawnSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' }).status === 0
}

/**
 * Installs what is missing when it can (root with apt-get; npm for autocannon). Returns the
 * names of the programs still missing, so the caller can skip their tools and say why.
 */
export function ensureTools(root, log) {
  const missing = DEBIAN.filter((d) => !d.present())
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0
  if (missing.length > 0 && isRoot && existsSync('/usr/bin/apt-get')) {
    const pkgs = [...new Set(missing.map((m) => m.pkg))]
    log(`installing ${pkgs.join(' ')} from Debian…`)
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
    try {
      execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env })
      execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...pkgs], { stdio: 'inherit', env })
    } catch (err) {
      log(`apt-get failed: ${err.message}`)
    }
  }
  const still = DEBIAN.filter((d) => !d.present()).map((d) => d.name)
  if (!hasAutocannon(root)) {
    const range = JSON.parse(readFileSync(`${root}/package.json`, 'utf8')).devDependencies?.autocannon ?? '^9.0.0'
    log(`installing autocannon@${range} from npm…`)
    spawnSync('npm', ['install', '--no-save', `autocannon@${range}`], { cwd: root, stdio: 'inherit' })
  }
  if (!hasAutocannon(root)) still.push('autocannon')
  return still
}

export function autocannonBin(root) {
  return createRequire(`${root}/package.json`).resolve('autocannon/autocannon.js')
}

function hasAutocannon(root) {
  try {
    autocannonBin(root)
    return true
  } catch {
    return false
  }
}

function version(cmd, args, pattern) {
  try {
    const r = spawnSync(cmd, args, { encoding: 'utf8' })
    const m = pattern.exec(`${r.stdout}${r.stderr}`)
    return m?.[1] ?? null
  } catch {
    return null
  }
}

function dpkgVersion(pkg) {
  return version('dpkg-query', ['-W', '-f', '${Version}', pkg], /(\S+)/)
}

/** CPU model, cores, memory, OS, Node and the peers' versions: what a reader needs to compare. */
export function describeMachine(root) {
  const cpuinfo = existsSync('/proc/cpuinfo') ? readFileSync('/proc/cpuinfo', 'utf8') : ''
  const model = /model name\s*:\s*(.+)/.exec(cpuinfo)?.[1]?.trim() ?? os.cpus()[0]?.model ?? 'unknown'
  const mhz = /cpu MHz\s*:\s*(.+)/.exec(cpuinfo)?.[1]?.trim()
  let autocannon = null
  try {
    autocannon = createRequire(`${root}/package.json`)('autocannon/package.json').version
  } catch {}
  return {
    cpuModel: model,
    cpuMHz: mhz === undefined ? null : Number(mhz),
    cores: os.cpus().length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    loadAverageAtStart: os.loadavg().map((x) => Math.round(x * 100) / 100),
    versions: {
      nginx: version('/usr/sbin/nginx', ['-v'], /nginx\/(\S+)/),
      wrk: dpkgVersion('wrk'),
      h2load: dpkgVersion('nghttp2-client'),
      autocannon,
      undici: createRequire(`${root}/package.json`)('undici/package.json').version,
      locust: dpkgVersion('python3-locust'),
      geventhttpclient: dpkgVersion('python3-geventhttpclient'),
      loads: JSON.parse(readFileSync(`${root}/package.json`, 'utf8')).version,
    },
  }
}
