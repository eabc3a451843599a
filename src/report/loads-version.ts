import { createRequire } from 'node:module'

/** The version of Loads that wrote a result, from the package's own package.json. */
export function loadsVersion(): string {
  const pkg = createRequire(import.meta.url)('../../package.json') as { version: string }
  return pkg.version
}
