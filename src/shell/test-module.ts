import { generateTestCase } from './codegen.js'
import { parseCurlCommands, type ParseCurlOptions } from './curl/parse.js'
import type { CurlRunFlags } from './curl/run-flags.js'
import { parseHar, type ParseHarOptions } from './har/parse.js'
import type { RequestSpec } from './request-spec.js'

/** A generated TestCase module and what it was made of. */
export interface TestModule {
  /** TypeScript source of the module. */
  code: string
  requests: RequestSpec[]
  className: string
  methodName: string
  /** Connection options the source asks of the run (curl's --http2, --cert …), for loads-runner's flags. */
  runFlags?: CurlRunFlags
}

/** Naming and base-URL choices shared by every importer. */
export interface ModuleNaming {
  className?: string
  methodName?: string
  /**
   * `static serverUrl` of the class; requests to its origin are written relative to it, so
   * `--server-url` can point the test elsewhere. Default: the origin of the first request.
   */
  serverUrl?: string
}

/** The origin of the first request, the base a generated test is most often re-pointed from. */
export function defaultServerUrl(requests: readonly RequestSpec[]): string | undefined {
  const first = requests[0]
  if (first === undefined) return undefined
  try {
    return new URL(first.url).origin
  } catch {
    return undefined
  }
}

/** `loads curl` and `loads-runner --curl`: a curl command (or several) as a TestCase module. */
export function curlTestModule(command: string, options: ParseCurlOptions & ModuleNaming = {}): TestModule {
  const { requests, runFlags } = parseCurlCommands(withCurlWord(command), options)
  const className = options.className ?? 'CurlTest'
  const methodName = options.methodName ?? 'test_curl'
  const serverUrl = options.serverUrl ?? defaultServerUrl(requests)
  const code = generateTestCase(requests, { className, methodName, source: 'a curl command', ...(serverUrl !== undefined ? { serverUrl } : {}) })
  return { code, requests, className, methodName, runFlags }
}

/** How a HAR replay behaves beyond what it sends. */
export interface HarReplayChoices {
  /** Assert the recorded status of each request (default true). */
  assertStatus?: boolean
  /**
   * Keep the cookie jar for the user's life instead of emptying it at the start of each run
   * (default false: every run starts as the recording did).
   */
  keepCookies?: boolean
  /** The file the recording was read from, named in the generated code's first line. */
  source?: string
}

/**
 * `loads har`: a browser recording as a TestCase that replays it in order, asserting the status
 * the browser saw for each request (what held when it was recorded).
 */
export function harTestModule(json: string, options: ParseHarOptions & ModuleNaming & HarReplayChoices = {}): TestModule {
  const requests = parseHar(json, options)
  const className = options.className ?? 'HarReplay'
  const methodName = options.methodName ?? 'test_replay'
  const serverUrl = options.serverUrl ?? defaultServerUrl(requests)
  const code = generateTestCase(requests, {
    className,
    methodName,
    source: options.source === undefined ? 'a HAR recording' : `the HAR recording ${options.source}`,
    freshCookies: options.keepCookies !== true,
    seedsFromData: true,
    ...(serverUrl !== undefined ? { serverUrl } : {}),
    ...(options.assertStatus !== false ? { assertStatus: requests.map((request) => request.status) } : {}),
  })
  return { code, requests, className, methodName }
}

/**
 * People paste `loads curl 'https://…' -H …` as often as `loads curl 'curl https://…'`: text that
 * starts with a URL or an option gets the `curl` word it left out.
 */
function withCurlWord(command: string): string {
  const start = command.trimStart()
  return /^(?:-|https?:\/\/)/i.test(start) ? `curl ${start}` : command
}
