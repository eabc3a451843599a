/**
 * gRPC status codes by name, as the gRPC spec spells them (doc/statuscodes.md). A gRPC endpoint
 * (method `GRPC`) records its calls' status codes like HTTP statuses; reports print the names.
 */
const NAMES = [
  'OK', 'CANCELLED', 'UNKNOWN', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED', 'NOT_FOUND', 'ALREADY_EXISTS', 'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED', 'FAILED_PRECONDITION', 'ABORTED', 'OUT_OF_RANGE', 'UNIMPLEMENTED', 'INTERNAL', 'UNAVAILABLE', 'DATA_LOSS',
  'UNAUTHENTICATED',
] as const

/** The name of a gRPC status code: `OK`, `DEADLINE_EXCEEDED`, …; unknown codes as `CODE_<n>`. */
export function grpcStatusName(code: number): string {
  return NAMES[code] ?? `CODE_${code}`
}

/** A gRPC endpoint's status counts keyed by name (`{ OK: 10, UNAVAILABLE: 2 }`). */
export function namedGrpcStatuses(statuses: Record<string, number>): Record<string, number> {
  const named: Record<string, number> = {}
  for (const [code, n] of Object.entries(statuses)) named[grpcStatusName(Number(code))] = n
  return named
}
