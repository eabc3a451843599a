import { LoadsError } from '../errors.js'
import { grpcStatusName } from '../stats/grpc-status-names.js'

/**
 * A gRPC call that ended with a status other than OK. The call was recorded as a hit (method
 * `GRPC`, its status counted) before the promise rejected. `kind` is the status name, so the
 * run's error groups read `UNAVAILABLE`, `DEADLINE_EXCEEDED` …
 */
export class GrpcError extends LoadsError {
  /** The gRPC status code (14). */
  readonly status: number
  /** Its name (`UNAVAILABLE`); also the error kind the run groups it under. */
  readonly kind: string
  /** The status details the server (or the client library) gave. */
  readonly details: string
  /** `/package.Service/Method`. */
  readonly method: string
  /** Trailing metadata of the call, lower-cased keys. */
  readonly metadata: Record<string, string>

  constructor(method: string, status: number, details: string, metadata: Record<string, string>) {
    const kind = grpcStatusName(status)
    super('LOADS_ERR_GRPC_STATUS', `${method}: ${kind}${details === '' ? '' : `: ${details}`}`)
    this.name = 'GrpcError'
    this.status = status
    this.kind = kind
    this.details = details
    this.method = method
    this.metadata = metadata
  }
}
