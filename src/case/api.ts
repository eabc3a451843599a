import * as api from '../index.js'
import { API_SLOT } from './bundle-file.js'

/** Makes this process's Loads API the one that bundled tests' `import … from 'loads-runner'` get. */
export function installApi(): void {
  ;(globalThis as Record<symbol, unknown>)[API_SLOT] = api
}

/** The runtime names the API exports: what a bundle's `loads-runner` import may name. */
export function apiExportNames(): string[] {
  return Object.keys(api)
}
