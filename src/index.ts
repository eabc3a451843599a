/**
 * The public API of Loads, what a test file imports from 'loads-runner'. Re-exports only.
 */
export { TestCase } from './case/test-case.js'
export type { TestContext } from './case/test-case.js'
export { AssertionError } from './case/assertion-error.js'
export { Session } from './http/session.js'
export type { SessionOptions } from './http/session.js'
export type { RequestOptions } from './http/request-options.js'
export { Response } from './http/response.js'
export { NetworkError, HTTPError } from './http/errors.js'
export { LoadsError, UsageError } from './errors.js'
export { WsClient } from './ws/ws-client.js'
export type { WsOptions, WsClose } from './ws/ws-client.js'
export { WsMessage } from './ws/ws-message.js'
export { WsError } from './ws/ws-error.js'
