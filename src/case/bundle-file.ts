import { pathToFileURL } from 'node:url'

/*
 * What a worker thread needs of a test bundle: importing it. Kept apart from bundle.ts, which
 * builds bundles with esbuild: a worker that imported esbuild's API (never calling it) carried its
 * code and Node's child_process, tty and dgram modules in every worker's heap.
 */

/** The global slot through which a bundled test reaches the Loads API of the process running it. */
export const API_SLOT = Symbol.for('loads-runner.api')

/** Imports a written bundle. The caller must have installed the API in `globalThis[API_SLOT]`. */
export async function importBundle(file: string): Promise<Record<string, unknown>> {
  return (await import(pathToFileURL(file).href)) as Record<string, unknown>
}
