import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'

/**
 * The .proto files a test uses, carried inside its bundle so that workers and cluster agents
 * load them without the user's folder: paths are relative to `base`, a folder holding the test
 * file and every proto; `entryDir` is the test file's folder relative to `base`.
 */
export interface ProtoFiles {
  entryDir: string
  files: Record<string, string>
  /** The test file's folder where it was bundled, for messages. */
  sourceDir: string
}

/** The name under which a bundle exports its ProtoFiles. */
export const PROTO_FILES_EXPORT = '__loadsProtoFiles'

/** At most this many bytes of .proto text travel with a bundle. */
const MAX_BYTES = 8 * 1024 * 1024

/**
 * Finds the .proto files a bundle names in string literals (`proto: 'shop.proto'`), resolved
 * against the test file's folder, and the files they import, transitively. A literal naming no
 * file is skipped here: `this.grpc` reports it, with the folder it looked in, when it runs.
 */
export function collectProtoFiles(code: string, entryDir: string): ProtoFiles {
  const found = new Map<string, string>()
  let bytes = 0
  const visit = (file: string): void => {
    if (found.has(file) || !isFile(file)) return
    const text = readFileSync(file, 'utf8')
    bytes += text.length
    if (bytes > MAX_BYTES) return
    found.set(file, text)
    for (const m of text.matchAll(/^\s*import\s+(?:public\s+|weak\s+)?["']([^"']+)["']\s*;/gm)) {
      const name = m[1]!
      if (name.startsWith('google/protobuf/')) continue // well-known types come with protobufjs
      const candidates = [path.resolve(path.dirname(file), name), path.resolve(entryDir, name)]
      const hit = candidates.find(isFile)
      if (hit !== undefined) visit(hit)
    }
  }
  for (const m of code.matchAll(/["'`]([^"'`\s]+\.proto)["'`]/g)) visit(path.resolve(entryDir, m[1]!))
  let base = entryDir
  for (const file of found.keys()) base = commonDir(base, path.dirname(file))
  const files: Record<string, string> = {}
  for (const [file, text] of found) files[toPosix(path.relative(base, file))] = text
  return { entryDir: toPosix(path.relative(base, entryDir)), files, sourceDir: entryDir }
}

/** The JavaScript line that adds `protos` to a bundle's exports. */
export function protoFilesExport(protos: ProtoFiles): string {
  return `export const ${PROTO_FILES_EXPORT} = ${JSON.stringify(protos)};\n`
}

/**
 * Writes a bundle's proto files into `dir` (the bundle's own folder, which goes when the run or
 * the agent ends; once per content: the sub-folder is named by its hash) and returns the folder
 * the test's relative proto paths resolve against.
 */
export function materializeProtoFiles(protos: ProtoFiles, dir: string = path.join(os.tmpdir(), 'loads-protos')): string {
  const hash = createHash('sha256').update(JSON.stringify(protos)).digest('hex').slice(0, 16)
  const root = path.join(dir, `protos-${hash}`)
  for (const [rel, text] of Object.entries(protos.files)) {
    const file = path.join(root, rel)
    if (!file.startsWith(root + path.sep)) continue // never outside the folder
    if (existsSync(file)) continue
    mkdirSync(path.dirname(file), { recursive: true })
    writeFileSync(file, text)
  }
  return path.join(root, protos.entryDir)
}

function isFile(file: string): boolean {
  try {
    return statSync(file).isFile()
  } catch {
    return false
  }
}

function commonDir(a: string, b: string): string {
  const pa = a.split(path.sep)
  const pb = b.split(path.sep)
  let i = 0
  while (i < pa.length && i < pb.length && pa[i] === pb[i]) i++
  return pa.slice(0, i).join(path.sep) || path.sep
}

function toPosix(p: string): string {
  return p.split(path.sep).join('/')
}
