import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** A certificate and its key, PEM. */
export interface Issued {
  cert: string
  key: string
}

/** A throw-away certificate authority made with openssl at test time. */
export interface TestCa extends Issued {
  /** A certificate signed by this CA: a server's (SANs) or, with `client`, a client's. */
  issue(commonName: string, options?: { dnsNames?: string[]; ips?: string[]; client?: boolean }): Issued
  /** Files for CLI flags: the CA's cert, and an issued pair, written to a temp folder. */
  dir: string
  dispose(): void
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: 'ignore' })
}

/** Makes a P-256 CA (CN "Loads Test CA") in a fresh temp folder. */
export function makeTestCa(): TestCa {
  const dir = mkdtempSync(join(tmpdir(), 'loads-ca-'))
  openssl(
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem',
      '-days', '36500', '-subj', '/CN=Loads Test CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'],
    dir,
  )
  let serial = 0
  return {
    dir,
    cert: readFileSync(join(dir, 'ca.pem'), 'utf8'),
    key: readFileSync(join(dir, 'ca.key'), 'utf8'),
    issue(commonName, options = {}) {
      const name = `leaf-${++serial}`
      const sans = [...(options.dnsNames ?? []).map((d) => `DNS:${d}`), ...(options.ips ?? []).map((ip) => `IP:${ip}`)]
      const ext = [
        options.client === true ? 'extendedKeyUsage=clientAuth' : 'extendedKeyUsage=serverAuth',
        ...(sans.length > 0 ? [`subjectAltName=${sans.join(',')}`] : []),
      ].join('\n')
      writeFileSync(join(dir, `${name}.ext`), `${ext}\n`)
      openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${commonName}`], dir)
      openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.pem`, '-days', '36500', '-extfile', `${name}.ext`], dir)
      return { cert: readFileSync(join(dir, `${name}.pem`), 'utf8'), key: readFileSync(join(dir, `${name}.key`), 'utf8') }
    },
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  }
}
