import { callSiteFor, captureCallSite, withCallSite, type CallSite } from '../http/call-site.js'
import { createRequire } from 'node:module'
import { isIP } from 'node:net'
import type { PackageDefinition } from '@grpc/proto-loader'
import type { CallOptions, ChannelCredentials, ChannelInterface, Client, ClientDuplexStream, ClientOptions, ClientReadableStream, ClientWritableStream, InterceptingListener, Metadata, ServiceError, StatusObject } from '@grpc/grpc-js'
import { LoadsError } from '../errors.js'
import type { TlsOptions } from '../http/origin-connection.js'
import type { ResolveMap } from '../http/resolve-map.js'
import type { HitSink, StreamSink } from '../stats/hit-sink.js'
import { GrpcError } from './grpc-error.js'
import { findMethod, loadProtos, servicesOf, type GrpcMethod } from './grpc-proto.js'
import { reflect, reflectedDefinition, ReflectionTransportError } from './grpc-reflection.js'

/** Options of `this.grpc(target, options)`. */
export interface GrpcOptions {
  /** The .proto file(s) describing the service, relative to the test file (string literals: they travel with the test). Either this or `reflect`. */
  proto?: string | string[]
  /**
   * Ask the server instead of reading .proto files: its reflection service
   * (grpc.reflection.v1.ServerReflection, else v1alpha) lists the services and sends the files
   * defining them. One reflection call per target per worker, before the first call (not a hit);
   * a server without reflection is an error saying to pass `proto`. Not together with `proto`.
   */
  reflect?: boolean
  /** `package.Service` whose methods bare names (`GetItem`) refer to; optional when the protos define one service. */
  service?: string
  /** Folders, relative to the test file, where imports of the protos are looked up too. */
  includeDirs?: string[]
  /** TLS on or off; by default on for `grpcs://` and `https://` targets, off otherwise. */
  tls?: boolean
  /** Metadata sent with every call (per-call metadata adds to it). */
  metadata?: Record<string, string>
  /** Deadline of each call in ms (default: the run's `--timeout`). */
  deadlineMs?: number
}

/** Options of one call. */
export interface GrpcCallOptions {
  /** Metadata of this call, added to the client's. */
  metadata?: Record<string, string>
  /** This call's deadline in ms (default: the client's). */
  deadlineMs?: number
}

/** A streaming call's outcome: the messages received, and the trailing metadata. */
export interface GrpcStreamResult<T> {
  messages: T[]
  metadata: Record<string, string>
}

/** What a virtual user's gRPC clients share with its run. */
export interface GrpcContext {
  sink: HitSink & StreamSink
  /** TLS files and --insecure, and --resolve, as for HTTP. */
  tls: TlsOptions & { resolve?: ResolveMap }
  /** Default deadline, ms. */
  timeoutMs: number
  /** Folder the test's relative .proto paths resolve against. */
  protoRoot: string
  /** That folder as the user knows it (the test file's), for messages; default `protoRoot`. */
  protoShownRoot?: string
  /** The label of the test the user runs now: a call site per test (see http/call-site.ts). */
  currentTest?: () => string | undefined
}

const METHOD = 'GRPC'
const OK = 0
/** grpc-js's status codes that a unary call may end with here (as Client.makeUnaryRequest ends it). */
const INTERNAL = 13
const UNIMPLEMENTED = 12

/** @grpc/grpc-js, loaded on first use: runs without gRPC do not pay for loading it. */
let grpcJs: typeof import('@grpc/grpc-js') | undefined
function lib(): typeof import('@grpc/grpc-js') {
  grpcJs ??= createRequire(import.meta.url)('@grpc/grpc-js') as typeof import('@grpc/grpc-js')
  return grpcJs
}

/**
 * A virtual user's client of one gRPC service, on @grpc/grpc-js with its own channel (one
 * HTTP/2 connection, as each HTTP user has its own). Every call is one hit of method `GRPC`,
 * named by its path (`/shop.Shop/GetItem`), whose status is the gRPC status code (0 = OK, 14 =
 * UNAVAILABLE …; the reports print the names). Messages each way are counted with their
 * serialized bytes, as WebSocket messages are. A call ending with another status than OK is
 * recorded, then rejects with a GrpcError.
 */
export class GrpcClient {
  readonly #client: Client
  /** The client's channel: unary calls go straight to it (see UnaryCall). */
  readonly #channel: ChannelInterface
  readonly #context: GrpcContext
  readonly #service: string | undefined
  /** Undefined until reflection answered (with `reflect`). */
  #services: ReturnType<typeof servicesOf> | undefined
  /** With `reflect`: the target (for messages) and its key in the worker's reflection cache. */
  readonly #reflect: { target: string; key: string } | undefined
  /** The client's metadata, as [key, value] pairs (sent with every call). */
  readonly #metadata: [string, string][]
  readonly #deadlineMs: number
  /** Methods by the name the test used, with byte-counting (de)serializers. */
  readonly #methods = new Map<string, CountedMethod>()

  constructor(target: string, options: GrpcOptions, context: GrpcContext) {
    const reflecting = options?.reflect === true
    if (reflecting && options.proto !== undefined) {
      throw new LoadsError('LOADS_ERR_GRPC_PROTO', 'gRPC: pass either { proto } or { reflect: true } to this.grpc, not both', {
        hint: 'proto reads the .proto files; reflect asks the server for them',
      })
    }
    if (!reflecting && options?.proto === undefined) {
      throw new LoadsError('LOADS_ERR_GRPC_PROTO', 'gRPC: this.grpc(target, { proto }) needs the .proto file(s) of the service', {
        hint: 'or { reflect: true } to ask a server that offers reflection',
      })
    }
    this.#service = options.service
    if (options.proto !== undefined) {
      const protos = Array.isArray(options.proto) ? options.proto : [options.proto]
      this.#services = servicesOf(loadProtos(context.protoRoot, protos, options.includeDirs ?? [], context.protoShownRoot))
      if (options.service !== undefined && !this.#services.has(options.service)) {
        throw new LoadsError('LOADS_ERR_GRPC_METHOD', `gRPC: unknown service '${options.service}'; ${protos.join(', ')} define: ${[...this.#services.keys()].join(', ') || 'no service'}`)
      }
    }
    this.#context = context
    this.#metadata = Object.entries(options.metadata ?? {})
    this.#deadlineMs = options.deadlineMs ?? context.timeoutMs
    const { address, secure, host } = parseTarget(target, options.tls)
    const channelOptions: ClientOptions = {
      // Each user its own connection (grpc-js shares one per target across a process otherwise).
      'grpc.use_local_subchannel_pool': 1,
    }
    let dial = address
    const pinned = context.tls.resolve?.[`${host.name.toLowerCase()}:${host.port}`]
    if (pinned !== undefined) {
      // --resolve: connect to the pinned address; :authority and the TLS name stay the target's.
      dial = isIP(pinned) === 6 ? `ipv6:[${pinned}]:${host.port}` : `ipv4:${pinned}:${host.port}`
      channelOptions['grpc.default_authority'] = address
      if (secure) channelOptions['grpc.ssl_target_name_override'] = host.name
    }
    this.#client = new (lib().Client)(dial, secure ? tlsCredentials(context.tls) : lib().credentials.createInsecure(), channelOptions)
    this.#channel = this.#client.getChannel()
    this.#reflect = reflecting ? { target, key: JSON.stringify([dial, address, secure]) } : undefined
    if (this.#reflect !== undefined) {
      // Another client of this worker asked already: no waiting.
      const known = reflectedDefinition(this.#reflect.key)
      if (known !== undefined) this.#adopt(known)
    }
  }

  /** A unary call: one request, one response (made on the channel: see UnaryCall). */
  unary<Res = unknown, Req = unknown>(method: string, request: Req, options?: GrpcCallOptions): Promise<Res> {
    if (this.#services === undefined) return this.#afterReflection(method, this.unary, (site) => this.#unary<Res, Req>(method, request, options, site))
    return this.#unary<Res, Req>(method, request, options, undefined)
  }

  #unary<Res, Req>(method: string, request: Req, options: GrpcCallOptions | undefined, early: CallSite | undefined): Promise<Res> {
    const m = this.#method(method, 'unary')
    const site = early ?? callSiteFor(METHOD, m.path, this.unary, this.#context.currentTest?.())
    return new Promise<Res>((resolve, reject) => {
      const started = performance.now()
      let call: ChannelCall
      let metadata: Metadata
      try {
        metadata = this.#metadataOf(options)
        call = this.#channel.createCall(m.path, Date.now() + (options?.deadlineMs ?? this.#deadlineMs), undefined, null, undefined)
      } catch (err) {
        // A bad metadata key, a closed client: rejects at the line of the call.
        throw err instanceof Error ? withCallSite(err, site ?? captureCallSite(this.unary)) : err
      }
      const listener = new UnaryCall(call, m, this.#context.sink, started, resolve as (response: unknown) => void, reject, site)
      call.start(metadata, listener)
      call.startRead()
      listener.send(request)
      call.halfClose()
    })
  }

  /** A server-streaming call: one request, every response message collected (or handed to `onMessage`). */
  serverStream<Res = unknown, Req = unknown>(method: string, request: Req, options?: GrpcCallOptions & { onMessage?: (message: Res) => void }): Promise<GrpcStreamResult<Res>> {
    if (this.#services === undefined) return this.#afterReflection(method, this.serverStream, (site) => this.#serverStream<Res, Req>(method, request, options, site))
    return this.#serverStream<Res, Req>(method, request, options, undefined)
  }

  #serverStream<Res, Req>(method: string, request: Req, options: (GrpcCallOptions & { onMessage?: (message: Res) => void }) | undefined, early: CallSite | undefined): Promise<GrpcStreamResult<Res>> {
    const m = this.#method(method, 'serverStream')
    const site = early ?? callSiteFor(METHOD, m.path, this.serverStream, this.#context.currentTest?.())
    const call = unstacked(site, () => this.#client.makeServerStreamRequest(m.path, m.serialize, m.deserialize, request, this.#metadataOf(options), this.#callOptions(options)))
    return this.#collect<Res>(m.path, call, options?.onMessage, site)
  }

  /** A client-streaming call: every request of `requests` sent in order, then one response. */
  clientStream<Res = unknown, Req = unknown>(method: string, requests: Iterable<Req> | AsyncIterable<Req>, options?: GrpcCallOptions): Promise<Res> {
    if (this.#services === undefined) return this.#afterReflection(method, this.clientStream, (site) => this.#clientStream<Res, Req>(method, requests, options, site))
    return this.#clientStream<Res, Req>(method, requests, options, undefined)
  }

  #clientStream<Res, Req>(method: string, requests: Iterable<Req> | AsyncIterable<Req>, options: GrpcCallOptions | undefined, early: CallSite | undefined): Promise<Res> {
    const m = this.#method(method, 'clientStream')
    const site = early ?? callSiteFor(METHOD, m.path, this.clientStream, this.#context.currentTest?.())
    return new Promise<Res>((resolve, reject) => {
      const started = performance.now()
      let ttfbUs = 0
      const call = unstacked(site, () =>
        this.#client.makeClientStreamRequest(m.path, m.serialize, m.deserialize, this.#metadataOf(options), this.#callOptions(options), (err: ServiceError | null, response?: unknown) => {
          recordCall(this.#context.sink, m.path, err === null ? OK : err.code, started, ttfbUs)
          if (err === null) resolve(response as Res)
          else reject(withCallSite(toError(m.path, err), site))
        }),
      )
      call.on('metadata', () => (ttfbUs = usSince(started)))
      void writeAll(call, requests)
    })
  }

  /** A bidirectional call: `requests` sent in order (then the send side closed), every response collected. */
  bidi<Res = unknown, Req = unknown>(method: string, requests: Iterable<Req> | AsyncIterable<Req>, options?: GrpcCallOptions & { onMessage?: (message: Res) => void }): Promise<GrpcStreamResult<Res>> {
    if (this.#services === undefined) return this.#afterReflection(method, this.bidi, (site) => this.#bidi<Res, Req>(method, requests, options, site))
    return this.#bidi<Res, Req>(method, requests, options, undefined)
  }

  #bidi<Res, Req>(method: string, requests: Iterable<Req> | AsyncIterable<Req>, options: (GrpcCallOptions & { onMessage?: (message: Res) => void }) | undefined, early: CallSite | undefined): Promise<GrpcStreamResult<Res>> {
    const m = this.#method(method, 'bidi')
    const site = early ?? callSiteFor(METHOD, m.path, this.bidi, this.#context.currentTest?.())
    const call = unstacked(site, () => this.#client.makeBidiStreamRequest(m.path, m.serialize, m.deserialize, this.#metadataOf(options), this.#callOptions(options)))
    const result = this.#collect<Res>(m.path, call, options?.onMessage, site)
    void writeAll(call, requests)
    return result
  }

  /** Closes the channel; calls in flight end with CANCELLED. */
  close(): void {
    this.#client.close()
  }

  #collect<Res>(path: string, call: ClientReadableStream<unknown> | ClientDuplexStream<unknown, unknown>, onMessage: ((message: Res) => void) | undefined, site: CallSite | undefined): Promise<GrpcStreamResult<Res>> {
    return new Promise((resolve, reject) => {
      const started = performance.now()
      let ttfbUs = 0
      const messages: Res[] = []
      call.on('metadata', () => (ttfbUs = usSince(started)))
      call.on('data', (message: Res) => {
        if (onMessage !== undefined) onMessage(message)
        else messages.push(message)
      })
      // grpc-js reports a failed call both as 'error' and as 'status'; 'status' comes once, last.
      call.on('error', () => {})
      call.on('status', (s: { code: number; details: string; metadata: Metadata }) => {
        recordCall(this.#context.sink, path, s.code, started, ttfbUs)
        if (s.code === OK) resolve({ messages, metadata: flat(s.metadata) })
        else reject(withCallSite(new GrpcError(path, s.code, s.details, flat(s.metadata)), site))
      })
    })
  }

  /**
   * A call made before this worker's reflection of the target answered: waits for it (asking
   * the server if no one has), then makes the call. The call site is captured now, while the
   * test's frames are on the stack. If reflection could not reach the server, the call is
   * recorded with that status (as a call with a .proto would be) and rejects with a GrpcError.
   */
  #afterReflection<T>(name: string, above: (...args: never[]) => unknown, call: (site: CallSite) => Promise<T>): Promise<T> {
    const site = captureCallSite(above)
    const started = performance.now()
    const reflection = this.#reflect!
    return reflect(reflection.key, reflection.target, this.#client, this.#metadataOf(undefined), this.#deadlineMs).then(
      (definition) => {
        try {
          if (this.#services === undefined) this.#adopt(definition)
          return call(site)
        } catch (err) {
          throw withCallSite(err as Error, site)
        }
      },
      (err: unknown) => {
        if (err instanceof ReflectionTransportError) {
          const path = pathOf(name, this.#service)
          recordCall(this.#context.sink, path, err.status, started, 0)
          throw withCallSite(new GrpcError(path, err.status, err.details, {}), site)
        }
        throw withCallSite(err as Error, site)
      },
    )
  }

  /** Takes the services reflection gave; `service`, if given, must be one of them. */
  #adopt(definition: PackageDefinition): void {
    const services = servicesOf(definition)
    if (this.#service !== undefined && !services.has(this.#service)) {
      throw new LoadsError('LOADS_ERR_GRPC_METHOD', `gRPC: unknown service '${this.#service}'; the server (by reflection) defines: ${[...services.keys()].join(', ') || 'no service'}`)
    }
    this.#services = services
  }

  #method(name: string, kind: CallKind): CountedMethod {
    let m = this.#methods.get(name)
    if (m === undefined) {
      const def = findMethod(this.#services!, this.#service, name, this.#reflect === undefined ? 'the protos define' : 'the server (by reflection) defines')
      m = counted(def, this.#context.sink)
      this.#methods.set(name, m)
    }
    if (m.kind !== kind) {
      throw new LoadsError('LOADS_ERR_GRPC_METHOD', `gRPC: ${m.path} is a ${KIND_WORDS[m.kind]} method: call it with ${m.kind}(), not ${kind}()`)
    }
    return m
  }

  #metadataOf(options: GrpcCallOptions | undefined): Metadata {
    const metadata = new (lib().Metadata)()
    for (const [k, v] of this.#metadata) metadata.add(k, v)
    if (options?.metadata !== undefined) for (const [k, v] of Object.entries(options.metadata)) metadata.add(k, v)
    return metadata
  }

  #callOptions(options: GrpcCallOptions | undefined): CallOptions {
    return { deadline: Date.now() + (options?.deadlineMs ?? this.#deadlineMs) }
  }
}

type CallKind = 'unary' | 'serverStream' | 'clientStream' | 'bidi'
const KIND_WORDS: Record<CallKind, string> = { unary: 'unary', serverStream: 'server-streaming', clientStream: 'client-streaming', bidi: 'bidirectional' }

interface CountedMethod {
  path: string
  kind: CallKind
  serialize: (value: unknown) => Buffer
  deserialize: (bytes: Buffer) => unknown
}

/** The method with (de)serializers that count each message and its bytes, once, where it is encoded or decoded. */
function counted(def: GrpcMethod, sink: StreamSink): CountedMethod {
  const path = def.path
  const kind: CallKind = def.requestStream ? (def.responseStream ? 'bidi' : 'clientStream') : def.responseStream ? 'serverStream' : 'unary'
  return {
    path,
    kind,
    serialize: (value) => {
      const bytes = def.requestSerialize(value)
      sink.recordStreamMessage(METHOD, path, 'out', bytes.length)
      return bytes
    },
    deserialize: (bytes) => {
      sink.recordStreamMessage(METHOD, path, 'in', bytes.length)
      return def.responseDeserialize(bytes)
    },
  }
}

type ChannelCall = ReturnType<ChannelInterface['createCall']>

/**
 * One unary call made on the client's channel, as grpc-js's `Client.makeUnaryRequest` makes it
 * (client.js and client-interceptors.js of @grpc/grpc-js 1.14: start, startRead, the message, half
 * close) with the same outcomes — a request that does not serialize and a response that does not
 * parse end INTERNAL, no response UNIMPLEMENTED "No message received", a second one UNIMPLEMENTED
 * "Too many responses received" — but without the layers a test never uses: interceptors, the
 * call's EventEmitter, and the `new Error()` grpc-js captures per call for its own error's stack.
 * A unary call costs ~15% less CPU so (bench/README.md, "gRPC: unary calls on the channel");
 * test/integration/grpc-unary-differential.test.ts holds both ways to the same results.
 */
class UnaryCall implements InterceptingListener {
  #ttfbUs = 0
  #response: unknown
  #received = false
  /** A response that did not parse: the call's status, whatever the server sent after. */
  #readError: StatusObject | undefined
  #ended = false

  constructor(
    private readonly call: ChannelCall,
    private readonly method: CountedMethod,
    private readonly sink: HitSink,
    private readonly started: number,
    private readonly resolve: (response: unknown) => void,
    private readonly reject: (err: Error) => void,
    private readonly site: CallSite | undefined,
  ) {}

  send(request: unknown): void {
    let bytes: Buffer
    try {
      bytes = this.method.serialize(request)
    } catch (err) {
      this.call.cancelWithStatus(INTERNAL, `Request message serialization failure: ${messageOf(err)}`)
      return
    }
    this.call.sendMessageWithContext({}, bytes)
  }

  onReceiveMetadata(): void {
    this.#ttfbUs = usSince(this.started)
  }

  onReceiveMessage(bytes: Buffer): void {
    let message: unknown
    try {
      message = this.method.deserialize(bytes)
    } catch (err) {
      const details = `Response message parsing error: ${messageOf(err)}`
      this.#readError = { code: INTERNAL, details, metadata: new (lib().Metadata)() }
      this.call.cancelWithStatus(INTERNAL, details)
      return
    }
    if (this.#received) this.call.cancelWithStatus(UNIMPLEMENTED, 'Too many responses received')
    this.#received = true
    this.#response = message
  }

  onReceiveStatus(received: StatusObject): void {
    if (this.#ended) return
    this.#ended = true
    let status = this.#readError ?? received
    if (status.code === OK && !this.#received) status = { code: UNIMPLEMENTED, details: 'No message received', metadata: status.metadata }
    recordCall(this.sink, this.method.path, status.code, this.started, this.#ttfbUs)
    if (status.code === OK) this.resolve(this.#response)
    else this.reject(withCallSite(new GrpcError(this.method.path, status.code, status.details, flat(status.metadata)), this.site))
  }
}

/** A call's hit: method GRPC, named by the call's path, its status the gRPC status code. */
function recordCall(sink: HitSink, path: string, code: number, started: number, ttfbUs: number): void {
  sink.recordHit(METHOD, path, code, usSince(started), ttfbUs, 0, 0, 0, null, code !== OK)
}

/** An error's message as grpc-js words it in a status (its getErrorMessage). */
function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

/**
 * Starts a streaming call with no stack recorded: grpc-js captures one for every call (`new
 * Error()` in Client.make…Request, read only when the call fails, for its own error), ~5 µs at a test's
 * depth against ~0.4 µs with no frames (`Error.stackTraceLimit = 0`); a failed call's GrpcError
 * carries the test's call site instead (withCallSite). An error thrown while the call is set up
 * gets the call site too (captured now if the worker kept none).
 */
function unstacked<T>(site: CallSite | undefined, start: () => T): T {
  const limit = Error.stackTraceLimit
  Error.stackTraceLimit = 0
  try {
    return start()
  } catch (err) {
    Error.stackTraceLimit = limit
    throw err instanceof Error ? withCallSite(err, site ?? captureCallSite(unstacked)) : err
  } finally {
    Error.stackTraceLimit = limit
  }
}

async function writeAll<Req>(call: ClientWritableStream<Req> | ClientDuplexStream<Req, unknown>, requests: Iterable<Req> | AsyncIterable<Req>): Promise<void> {
  try {
    for await (const request of requests) {
      if (call.destroyed) return
      // Respect flow control: wait for 'drain' when the stream's buffer is full.
      if (!call.write(request)) await new Promise<void>((resolve) => call.once('drain', resolve))
    }
    call.end()
  } catch (err) {
    call.cancel()
    call.emit('error', err)
  }
}

/** The path a call of `name` would have had, for a call whose reflection failed. */
function pathOf(name: string, service: string | undefined): string {
  const trimmed = name.startsWith('/') ? name.slice(1) : name
  return trimmed.includes('/') || service === undefined ? `/${trimmed}` : `/${service}/${trimmed}`
}

function parseTarget(target: string, tls: boolean | undefined): { address: string; secure: boolean; host: { name: string; port: number } } {
  const m = /^(?:(grpcs?|https?):\/\/)?([^/]+?)\/?$/.exec(target.trim())
  if (m === null) throw new LoadsError('LOADS_ERR_GRPC_TARGET', `gRPC: target '${target}' is not host:port (or grpc://, grpcs://host:port)`)
  const scheme = m[1]
  const secure = tls ?? (scheme === 'grpcs' || scheme === 'https')
  const hostPort = m[2]!
  const pm = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(hostPort)
  if (pm === null) throw new LoadsError('LOADS_ERR_GRPC_TARGET', `gRPC: target '${target}' is not host:port`)
  const port = pm[2] !== undefined ? Number(pm[2]) : secure ? 443 : 80
  const name = pm[1]!.replace(/^\[(.*)\]$/, '$1')
  return { address: `${pm[1]}:${port}`, secure, host: { name, port } }
}

function tlsCredentials(tls: TlsOptions): ChannelCredentials {
  const buf = (v: string | Buffer | undefined): Buffer | null => (v === undefined ? null : Buffer.isBuffer(v) ? v : Buffer.from(v))
  const insecure = tls.insecure === true
  return lib().credentials.createSsl(buf(tls.ca), buf(tls.key), buf(tls.cert), insecure ? { rejectUnauthorized: false, checkServerIdentity: () => undefined } : {})
}

function toError(path: string, err: ServiceError): GrpcError {
  return new GrpcError(path, err.code, err.details, flat(err.metadata))
}

function flat(metadata: Metadata | undefined): Record<string, string> {
  const out: Record<string, string> = {}
  if (metadata === undefined) return out
  for (const [k, v] of Object.entries(metadata.getMap())) out[k] = Buffer.isBuffer(v) ? v.toString('base64') : String(v)
  return out
}

function usSince(startMs: number): number {
  return Math.max(1, Math.round((performance.now() - startMs) * 1000))
}
