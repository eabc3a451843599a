import { createRequire } from 'node:module'
import type { Client, ClientDuplexStream, Metadata, ServiceError } from '@grpc/grpc-js'
import type { PackageDefinition } from '@grpc/proto-loader'
import type * as Protobuf from 'protobufjs'
import { LoadsError } from '../errors.js'
import { loadDescriptorFiles } from './grpc-proto.js'

/**
 * Server reflection (grpc.reflection.v1.ServerReflection, else v1alpha): the services a server
 * offers and the FileDescriptorProtos that define them, turned into the same package definition
 * a .proto file gives. One round trip — one bidirectional call — per target per worker; its
 * outcome is shared by every client of that target in the worker. These calls are not hits.
 */

/** The reflection service's names, newest first: servers older than v1 offer only v1alpha. */
const VERSIONS = ['grpc.reflection.v1', 'grpc.reflection.v1alpha'] as const

/** gRPC status codes the reflection call can end with that mean something to us. */
const UNIMPLEMENTED = 12
const NOT_FOUND = 5

/**
 * The reflection call could not reach the server or did not finish (UNAVAILABLE, a deadline…):
 * the test's call that needed it is recorded and fails with that status, as a refused connection
 * does with a .proto; the next call asks again.
 */
export class ReflectionTransportError extends Error {
  constructor(
    readonly status: number,
    readonly details: string,
  ) {
    super(details)
  }
}

/** Outcomes by target: a promise while in flight, then the definition (or a LoadsError, kept). */
const cache = new Map<string, { promise: Promise<PackageDefinition>; settled?: PackageDefinition }>()

/** The package definition reflection gave for `key` in this worker, if it is already known. */
export function reflectedDefinition(key: string): PackageDefinition | undefined {
  return cache.get(key)?.settled
}

/**
 * The package definition of every service the server at `key` offers (but reflection itself),
 * asked over `client`'s channel once per worker, with `metadata` (the client's own: a server that
 * wants a token on every call wants it on this one too, as grpcurl's -H sends it). A server
 * without reflection, or answering with an error, is a LoadsError (kept: asking again would not
 * help); a transport failure is a ReflectionTransportError and is forgotten, so the next call
 * asks again.
 */
export function reflect(key: string, target: string, client: Client, metadata: Metadata, deadlineMs: number): Promise<PackageDefinition> {
  const known = cache.get(key)
  if (known !== undefined) return known.promise
  const entry: { promise: Promise<PackageDefinition>; settled?: PackageDefinition } = {
    promise: ask(target, client, metadata, deadlineMs).then(
      (definition) => {
        entry.settled = definition
        return definition
      },
      (err: unknown) => {
        if (err instanceof ReflectionTransportError) cache.delete(key)
        throw err
      },
    ),
  }
  cache.set(key, entry)
  return entry.promise
}

async function ask(target: string, client: Client, metadata: Metadata, deadlineMs: number): Promise<PackageDefinition> {
  for (const version of VERSIONS) {
    const files = await fetchFiles(version, client, metadata, deadlineMs).catch((err: unknown) => {
      if (err instanceof ReflectionTransportError && err.status === UNIMPLEMENTED) return undefined
      throw err
    })
    if (files === undefined) continue
    try {
      return loadDescriptorFiles(files)
    } catch (err) {
      throw new LoadsError('LOADS_ERR_GRPC_REFLECTION', `gRPC: cannot load the descriptors ${target} gave by reflection: ${(err as Error).message}`, { cause: err })
    }
  }
  // The way out goes in the message itself too: it is what a user's own catch or log shows.
  throw new LoadsError('LOADS_ERR_GRPC_REFLECTION', `gRPC: ${target} has no server reflection (UNIMPLEMENTED): pass { proto: 'service.proto' } instead`, {
    hint: 'neither grpc.reflection.v1.ServerReflection nor v1alpha answered; give the .proto file(s) of the service, relative to the test file',
  })
}

/** What the reflection call's messages look like, built once from their field numbers. */
interface ReflectionTypes {
  request: Protobuf.Type
  response: Protobuf.Type
  fileDescriptor: Protobuf.Type
}
let types: ReflectionTypes | undefined
function reflectionTypes(): ReflectionTypes {
  if (types !== undefined) return types
  const require = createRequire(import.meta.url)
  const pb = require('protobufjs') as typeof Protobuf
  // grpc/reflection/v1/reflection.proto, the fields we use (v1alpha has the same numbers).
  const root = pb.Root.fromJSON({
    nested: {
      ServerReflectionRequest: {
        oneofs: { message_request: { oneof: ['file_by_filename', 'file_containing_symbol', 'list_services'] } },
        fields: { host: { type: 'string', id: 1 }, file_by_filename: { type: 'string', id: 3 }, file_containing_symbol: { type: 'string', id: 4 }, list_services: { type: 'string', id: 7 } },
      },
      ServerReflectionResponse: {
        fields: {
          file_descriptor_response: { type: 'FileDescriptorResponse', id: 4 },
          list_service_response: { type: 'ListServiceResponse', id: 6 },
          error_response: { type: 'ErrorResponse', id: 7 },
        },
      },
      FileDescriptorResponse: { fields: { file_descriptor_proto: { rule: 'repeated', type: 'bytes', id: 1 } } },
      ListServiceResponse: { fields: { service: { rule: 'repeated', type: 'ServiceResponse', id: 1 } } },
      ServiceResponse: { fields: { name: { type: 'string', id: 1 } } },
      ErrorResponse: { fields: { error_code: { type: 'int32', id: 1 }, error_message: { type: 'string', id: 2 } } },
      // google.protobuf.FileDescriptorProto: its name and the files it imports.
      FileDescriptorNames: { fields: { name: { type: 'string', id: 1 }, dependency: { rule: 'repeated', type: 'string', id: 3 } } },
    },
  })
  types = {
    request: root.lookupType('ServerReflectionRequest'),
    response: root.lookupType('ServerReflectionResponse'),
    fileDescriptor: root.lookupType('FileDescriptorNames'),
  }
  return types
}

interface Response {
  file_descriptor_response?: { file_descriptor_proto?: Uint8Array[] }
  list_service_response?: { service?: { name?: string }[] }
  error_response?: { error_code?: number; error_message?: string }
}

/**
 * One reflection call: list the services, then the file defining each, then any file those
 * import that the server has not sent yet. The files, each once, as the server encoded them.
 */
async function fetchFiles(version: string, client: Client, metadata: Metadata, deadlineMs: number): Promise<Buffer[]> {
  const t = reflectionTypes()
  const call: ClientDuplexStream<object, Response> = client.makeBidiStreamRequest(
    `/${version}.ServerReflection/ServerReflectionInfo`,
    (value: object) => Buffer.from(t.request.encode(t.request.fromObject(value)).finish()),
    (bytes: Buffer) => t.response.toObject(t.response.decode(bytes), { defaults: false }) as Response,
    metadata,
    { deadline: Date.now() + deadlineMs },
  )
  const stream = new Exchange(call)
  try {
    const listed = await stream.ask({ host: '', list_services: '*' })
    failOn(listed, 'list_services')
    const services = (listed.list_service_response?.service ?? []).map((s) => s.name ?? '').filter((n) => n !== '' && !n.startsWith('grpc.reflection.'))
    const files = new Map<string, Buffer>()
    const wanted = new Set<string>()
    const take = (response: Response): void => {
      for (const bytes of response.file_descriptor_response?.file_descriptor_proto ?? []) {
        const buf = Buffer.from(bytes)
        const names = t.fileDescriptor.toObject(t.fileDescriptor.decode(buf)) as { name?: string; dependency?: string[] }
        const name = names.name ?? `unnamed-${files.size}`
        if (!files.has(name)) files.set(name, buf)
        for (const dep of names.dependency ?? []) wanted.add(dep)
      }
    }
    for (const service of services) {
      const response = await stream.ask({ host: '', file_containing_symbol: service })
      failOn(response, `file_containing_symbol ${service}`)
      take(response)
    }
    // Servers should send the imports with the file; ask for those that did not come.
    const asked = new Set<string>()
    for (let missing = [...wanted].filter((f) => !files.has(f)); missing.length > 0; missing = [...wanted].filter((f) => !files.has(f) && !asked.has(f))) {
      for (const file of missing) {
        asked.add(file)
        const response = await stream.ask({ host: '', file_by_filename: file })
        // Well-known types a server does not send are known to the loader already.
        if (response.error_response?.error_code === NOT_FOUND && file.startsWith('google/protobuf/')) continue
        failOn(response, `file_by_filename ${file}`)
        take(response)
      }
    }
    return [...files.values()]
  } finally {
    stream.end()
  }
}

function failOn(response: Response, request: string): void {
  const e = response.error_response
  if (e !== undefined && e !== null) {
    throw new LoadsError('LOADS_ERR_GRPC_REFLECTION', `gRPC: the server's reflection answered ${request} with error ${e.error_code ?? 0}: ${e.error_message ?? ''}`)
  }
}

/** Request, then its response, in turn, over one bidirectional call; the call's end as an error. */
class Exchange {
  readonly #call: ClientDuplexStream<object, Response>
  readonly #waiting: { resolve: (r: Response) => void; reject: (e: Error) => void }[] = []
  #ended: Error | undefined

  constructor(call: ClientDuplexStream<object, Response>) {
    this.#call = call
    call.on('data', (response: Response) => this.#waiting.shift()?.resolve(response))
    // grpc-js reports a failed call both as 'error' and as 'status'; 'status' comes once, last.
    call.on('error', (err: ServiceError) => this.#fail(new ReflectionTransportError(err.code, err.details || err.message)))
    call.on('status', (s: { code: number; details: string }) => this.#fail(new ReflectionTransportError(s.code === 0 ? 2 : s.code, s.details || 'the reflection call ended before its answers')))
  }

  ask(request: object): Promise<Response> {
    if (this.#ended !== undefined) return Promise.reject(this.#ended)
    return new Promise((resolve, reject) => {
      this.#waiting.push({ resolve, reject })
      this.#call.write(request)
    })
  }

  end(): void {
    this.#ended ??= new ReflectionTransportError(1, 'ended')
    this.#call.end()
  }

  #fail(err: ReflectionTransportError): void {
    this.#ended ??= err
    for (const w of this.#waiting.splice(0)) w.reject(this.#ended)
  }
}
