import { existsSync } from 'node:fs'
import path from 'node:path'
import type { MethodDefinition, ServiceDefinition } from '@grpc/grpc-js'
import { createRequire } from 'node:module'
import type { PackageDefinition } from '@grpc/proto-loader'
import { LoadsError } from '../errors.js'

/** How messages map to JavaScript: field names as written, 64-bit integers and enums as strings. */
const LOADER_OPTIONS = { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true } as const

/** Loaded definitions by (folder, files): a worker parses each set of .proto files once. */
const loaded = new Map<string, PackageDefinition>()

/**
 * The package definition of `protos` (resolved against `root`, the test file's folder), parsed
 * once per worker. A missing or unparsable file is a LoadsError naming it.
 */
export function loadProtos(root: string, protos: readonly string[], includeDirs: readonly string[], shownRoot = root): PackageDefinition {
  const files = protos.map((p) => path.resolve(root, p))
  const key = JSON.stringify([files, includeDirs])
  const cached = loaded.get(key)
  if (cached !== undefined) return cached
  for (let i = 0; i < files.length; i++) {
    if (!existsSync(files[i]!)) {
      throw new LoadsError('LOADS_ERR_GRPC_PROTO', `gRPC: ${protos[i]} not found next to the test file (looked in ${shownRoot})`, {
        hint: 'give the .proto path relative to the test file, as a string literal, so it travels with the test',
      })
    }
  }
  let definition: PackageDefinition
  try {
    const { loadSync } = createRequire(import.meta.url)('@grpc/proto-loader') as typeof import('@grpc/proto-loader')
    // Imports resolve next to the importing file too, as protoc does with -I of each file's folder.
    const dirs = [...new Set([root, ...files.map((f) => path.dirname(f)), ...includeDirs.map((d) => path.resolve(root, d))])]
    definition = loadSync(files, { ...LOADER_OPTIONS, includeDirs: dirs })
  } catch (err) {
    throw new LoadsError('LOADS_ERR_GRPC_PROTO', `gRPC: cannot load ${protos.join(', ')}: ${(err as Error).message}`, { cause: err })
  }
  loaded.set(key, definition)
  return definition
}

/**
 * The package definition of FileDescriptorProtos (each as encoded bytes, as server reflection
 * sends them), loaded as a .proto file is: wrapped as a FileDescriptorSet (field 1, repeated).
 */
export function loadDescriptorFiles(files: readonly Buffer[]): PackageDefinition {
  const parts: Buffer[] = []
  for (const file of files) parts.push(Buffer.from([0x0a]), varint(file.length), file)
  const { loadFileDescriptorSetFromBuffer } = createRequire(import.meta.url)('@grpc/proto-loader') as typeof import('@grpc/proto-loader')
  return loadFileDescriptorSetFromBuffer(Buffer.concat(parts), LOADER_OPTIONS)
}

function varint(n: number): Buffer {
  const bytes: number[] = []
  while (n > 0x7f) {
    bytes.push((n & 0x7f) | 0x80)
    n = Math.floor(n / 128)
  }
  bytes.push(n)
  return Buffer.from(bytes)
}

/** A method of a service, with its full path (`/shop.Shop/GetItem`). */
export type GrpcMethod = MethodDefinition<unknown, unknown>

/** The services of a package definition, by full name (`shop.Shop`). */
export function servicesOf(definition: PackageDefinition): Map<string, ServiceDefinition> {
  const services = new Map<string, ServiceDefinition>()
  for (const [name, value] of Object.entries(definition)) {
    // Messages and enums carry a `format`; a service is an object of method definitions.
    if ('format' in value) continue
    services.set(name, value as unknown as ServiceDefinition)
  }
  return services
}

/**
 * The method `name` names: `GetItem` (in `service`, or in the only service), `shop.Shop/GetItem`
 * or `/shop.Shop/GetItem`. An unknown service or method is a LoadsError listing what exists.
 */
export function findMethod(services: Map<string, ServiceDefinition>, service: string | undefined, name: string, defines = 'the protos define'): GrpcMethod {
  const trimmed = name.startsWith('/') ? name.slice(1) : name
  const slash = trimmed.lastIndexOf('/')
  const serviceName = slash === -1 ? service : trimmed.slice(0, slash)
  const methodName = slash === -1 ? trimmed : trimmed.slice(slash + 1)
  let def: ServiceDefinition | undefined
  if (serviceName === undefined) {
    if (services.size !== 1) {
      throw new LoadsError('LOADS_ERR_GRPC_METHOD', `gRPC: '${name}' names no service, and ${defines} ${services.size}: ${[...services.keys()].join(', ') || 'none'}`, {
        hint: "pass { service: 'package.Service' } to this.grpc, or call 'package.Service/Method'",
      })
    }
    def = services.values().next().value
  } else {
    def = services.get(serviceName)
    if (def === undefined) {
      throw new LoadsError('LOADS_ERR_GRPC_METHOD', `gRPC: unknown service '${serviceName}'; ${defines}: ${[...services.keys()].join(', ') || 'no service'}`)
    }
  }
  const method = (def as Record<string, GrpcMethod | undefined>)[methodName]
  if (method === undefined) {
    const names = Object.values(def as Record<string, GrpcMethod>).map((m) => m.path.slice(m.path.lastIndexOf('/') + 1))
    throw new LoadsError('LOADS_ERR_GRPC_METHOD', `gRPC: unknown method '${methodName}'; the service has: ${names.join(', ')}`)
  }
  return method
}
