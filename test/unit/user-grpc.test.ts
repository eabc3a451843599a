import { describe, expect, it } from 'vitest'
import type { GrpcContext } from '../../src/grpc/grpc-client.js'
import { sameValue, UserGrpc } from '../../src/grpc/user-grpc.js'
import { RecordingSink } from '../helpers/http-servers.js'
import { PROTO_DIR } from '../helpers/grpc-server.js'

const context = (): GrpcContext => ({ sink: Object.assign(new RecordingSink(), { recordStreamMessage() {} }), tls: {}, timeoutMs: 5000, protoRoot: PROTO_DIR })

describe("a user's gRPC clients", () => {
  it('gives the same client back for the same target and equal options written anew in every run', () => {
    const grpc = new UserGrpc(context)
    const a = grpc.client('127.0.0.1:1', { proto: 'shop.proto', metadata: { a: '1', b: '2' } })
    // A new literal, its keys in another order, an undefined property: equal options.
    expect(grpc.client('127.0.0.1:1', { metadata: { b: '2', a: '1' }, proto: 'shop.proto', deadlineMs: undefined })).toBe(a)
    const other = [
      grpc.client('127.0.0.1:2', { proto: 'shop.proto', metadata: { a: '1', b: '2' } }),
      grpc.client('127.0.0.1:1', { proto: 'shop.proto', metadata: { a: '1' } }),
      grpc.client('127.0.0.1:1', { proto: ['shop.proto'], metadata: { a: '1', b: '2' } }),
      grpc.client('127.0.0.1:1', { proto: 'shop.proto', metadata: { a: '1', b: '2' }, deadlineMs: 100 }),
    ]
    expect(new Set([a, ...other]).size).toBe(5)
    expect(grpc.client('127.0.0.1:1', { proto: 'shop.proto', metadata: { a: '1' } })).toBe(other[1])
    grpc.closeAll()
  })

  it('opens another client when the test changes the options object it passed before', () => {
    const grpc = new UserGrpc(context)
    const options = { proto: 'shop.proto', deadlineMs: 100 }
    const first = grpc.client('127.0.0.1:1', options)
    options.deadlineMs = 200
    const second = grpc.client('127.0.0.1:1', options)
    expect(second).not.toBe(first)
    expect(grpc.client('127.0.0.1:1', { proto: 'shop.proto', deadlineMs: 100 })).toBe(first)
    grpc.closeAll()
  })

  it('compares as JSON would write the values', () => {
    expect(sameValue({ a: [1, 'x', { b: true }] }, { a: [1, 'x', { b: true }] })).toBe(true)
    expect(sameValue({ a: [1, 2] }, { a: [2, 1] })).toBe(false)
    expect(sameValue({ a: 1, b: undefined }, { a: 1 })).toBe(true)
    expect(sameValue({ a: 1 }, { a: 1, b: 0 })).toBe(false)
    expect(sameValue([], {})).toBe(false)
    expect(sameValue(null, {})).toBe(false)
    expect(sameValue('1', 1)).toBe(false)
  })
})
