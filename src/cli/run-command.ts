import path from 'node:path'
import { Command, Option } from 'commander'
import { UsageError } from '../errors.js'
import type { ScenarioInput } from '../load/scenarios.js'
import { formatExitCodeTable } from '../runner/exit-codes.js'
import { runTests, type RunIO, type RunOptions } from '../runner/run.js'
import type { CliIO } from './cli-io.js'
import { CliExit } from './cli-io.js'
import { addConfigOption } from './config-file.js'
import { addEnvOptions, applyEnvFlags, type EnvFlags } from './env-options.js'
import { addShapeOptions, applyShapeFlags, SHAPE_EXAMPLES, type ShapeFlags } from './shape-options.js'
import { runFor, wantsCluster } from './cluster-run.js'
import type { CurlRunFlags } from '../shell/curl/run-flags.js'
import { curlTestFile } from './curl-command.js'
import { byteSize, durationMs, positiveInt } from './options.js'
import { addReportOptions, setUpReports, type ReportFlags, type ReportSetup } from './report-options.js'
import { webDefaults, WebStarts } from './web-mode.js'

interface RunFlags extends ReportFlags, ShapeFlags, EnvFlags {
  users?: string
  hits?: string
  duration?: string
  workers?: number
  workerHeap?: number
  serverUrl?: string
  timeout?: number
  headersTimeout?: number
  bodyTimeout?: number
  maxBody?: number
  discardBodies?: boolean
  testTimeout?: number
  insecure?: boolean
  quiet?: boolean
  curl?: string
  traceContext?: boolean
  web?: boolean
  /** `[scenario.NAME]` sections of the --config file (set by its hook, never a flag). */
  scenarios?: ScenarioInput[]
}

/** Shape flags, which a run of scenarios takes per scenario instead. */
const SHAPE_FLAGS: [keyof RunFlags, string][] = [
  ['users', '-u/--users'], ['hits', '-c/--hits'], ['duration', '-d/--duration'], ['rampUp', '--ramp-up'], ['pause', '--pause'], ['think', '--think'], ['rate', '--rate'], ['maxUsers', '--max-users'],
]

const EXAMPLES = `
Examples:
  loads-runner example.TestWebSite.test_something               run once, to check the test works
  loads-runner example.TestWebSite.test_something -u 100 -c 10  100 users × 10 runs = 1000 runs
  loads-runner example.TestWebSite.test_something -u 10:20:30 -c 20
                                                                steps of 10, 20, 30 users: 1200 runs
  loads-runner tests/api.ts:Api -u 50 -d 2m                     50 users for 2 minutes
  loads-runner shop.ts:Browser shop.ts:Buyer -u 100 -d 1m       100 users split by the classes' static weight / fixedCount
  loads-runner --config loads.toml                              the file's [scenario.NAME] sections side by side, each its own test and shape
  loads-runner loads.examples.test_blog.TestWebSite.test_something --server-url http://127.0.0.1:8089
  loads-runner --curl 'curl -H "Accept: application/json" http://127.0.0.1:8089/api' -u 10 -c 100

${SHAPE_EXAMPLES.trimStart()}
Test addresses:
  module.Class.method      ./module.ts (or .mts .js .mjs); a.b.c → ./a/b/c.ts
  path/file.ts:Class.method, path/file.ts:Class, path/file.ts (every test… method)
  loads.examples.NAME…     the examples shipped with Loads

Exit codes:
${formatExitCodeTable()}
`

/** `loads run` / `loads-runner`: a load test on this machine's cores. */
export function runCommand(io: CliIO): Command {
  return addConfigOption(addEnvOptions(addShapeOptions(addReportOptions(new Command('run')
    .description('run a load test: a TestCase method with N virtual users, each running it C times')
    .argument('[tests...]', 'the test: module.Class.method, path/file.ts:Class.method, … (or --curl); several classes of one file share the users: shop.ts:Browser shop.ts:Buyer')
    .option('--curl <command>', "load-test a curl command, no test file needed: --curl 'curl https://… -H …'")
    .option('-u, --users <n>', 'concurrent virtual users, or steps run one after another: 10:20:30 (default: 1)')
    .option('-c, --hits <n>', 'runs of the test per user, or steps: 10:20 (default: 1)')
    .option('-d, --duration <time>', 'each user loops for this long per step instead of -c: 30s, 2m')
    .option('-w, --workers <n>', 'worker threads (default: one per core; at most one per user and 4 per core)', positiveInt('--workers'))
    .option('--worker-heap <MB>', "heap limit of each worker thread, MB (default: Node's); a worker beyond it is ended, its results kept", positiveInt('--worker-heap'))
    .option('--server-url <url>', "base URL for relative URLs (overrides the class's static serverUrl)")
    .option('--timeout <time>', 'per-request timeout, the whole request from connect to last body byte: 30s, 500ms (default 30s)', durationMs('--timeout'))
    .option('--headers-timeout <time>', 'silence allowed from sending a request to its response headers (default: none, --timeout bounds it)', durationMs('--headers-timeout'))
    .option('--body-timeout <time>', 'silence allowed between two pieces of a response body (default: none, --timeout bounds it)', durationMs('--body-timeout'))
    .option('--max-body <size>', 'the largest response body kept: past it the hit fails as BODY_TOO_LARGE and the connection is closed; bounds decoded (gzip, br) bodies too: 32MiB (default), 1GB, 0 = no limit', byteSize('--max-body'))
    .option('--discard-bodies', "count response bodies without keeping them (reading one then fails; a request's discardBody: false keeps its own), like k6's discardResponseBodies")
    .option('--test-timeout <time>', 'a test run still going after this is cut off and counted as an error', durationMs('--test-timeout'))
    .option('--insecure', 'do not verify TLS certificates')
    .option('-q, --quiet', 'no progress output, only the summary')
    .option('--web', 'open the dashboard with no load: its page has a form (users, runs or duration, ramp-up, rate, server URL) and Start; after each run, its results and another Start (Ctrl-C ends)')
    .option('--trace-context', 'add W3C trace context to every request: traceparent, tracestate and baggage naming the run, user and test')
    .addOption(new Option('--snapshot-interval <time>', 'how often workers report').argParser(durationMs('--snapshot-interval')).hideHelp())))), io.cwd)
    .addHelpText('after', EXAMPLES)
    .action(async (tests: string[], flags: RunFlags & { snapshotInterval?: number }) => {
      const scenarios = flags.scenarios
      if (scenarios !== undefined) checkScenarioFlags(tests, flags)
      const test: string | undefined = scenarios?.[0]?.test ?? tests[0]
      // --ping-broker, --attach … need no test.
      const clusterOnly = test === undefined && flags.curl === undefined && wantsCluster(flags)
      if (!clusterOnly && (test === undefined) === (flags.curl === undefined)) {
        throw new UsageError(test === undefined ? 'no test given' : 'give a test or --curl, not both', 'loads-runner module.Class.method, or loads-runner --curl \'curl https://…\'')
      }
      if (flags.web === true) {
        if (clusterOnly || wantsCluster(flags)) throw new UsageError('--web runs on this machine: it cannot go with the cluster options yet', 'loads-runner TEST --web')
        flags.dashboard ??= true
      }
      // --web: the form's starts come through the dashboard; the options are set below.
      let web: WebStarts | undefined
      const webOptions = flags.web === true ? { address: test ?? 'curl', defaults: webDefaults(flags) as unknown as Record<string, string>, start: (body: unknown) => web?.start(body) ?? 'the runner is not ready for a run yet' } : undefined
      const reports = await setUpReports(flags, io, webOptions)
      const curl = flags.curl !== undefined ? curlTestFile(flags.curl, io) : undefined
      const options: RunOptions = { address: curl?.file ?? (test as string), cwd: io.cwd }
      if (tests.length > 1) options.moreAddresses = tests.slice(1)
      if (scenarios !== undefined) options.scenarios = scenarios
      if (flags.users !== undefined) options.users = flags.users
      // curl's --http2, --cert … first, so that the runner's own flags, when given, win.
      if (curl !== undefined) applyCurlRunFlags(curl.runFlags, options, io.cwd)
      applyShapeFlags(flags, options)
      applyEnvFlags(flags, options, io.cwd)
      if (flags.hits !== undefined) options.hits = flags.hits
      if (flags.duration !== undefined) options.duration = flags.duration
      if (flags.workers !== undefined) options.workers = flags.workers
      if (flags.workerHeap !== undefined) options.workerHeapMb = flags.workerHeap
      if (flags.serverUrl !== undefined) options.serverUrl = checkUrl(flags.serverUrl)
      if (flags.timeout !== undefined) options.timeoutMs = flags.timeout
      if (flags.headersTimeout !== undefined) options.headersTimeoutMs = flags.headersTimeout
      if (flags.bodyTimeout !== undefined) options.bodyTimeoutMs = flags.bodyTimeout
      if (flags.maxBody !== undefined) options.maxBodyBytes = flags.maxBody
      if (flags.discardBodies === true) options.discardBodies = true
      if (flags.testTimeout !== undefined) options.testTimeoutMs = flags.testTimeout
      if (flags.snapshotInterval !== undefined) options.snapshotIntervalMs = flags.snapshotInterval
      options.insecure = flags.insecure ?? false
      options.quiet = flags.quiet ?? false
      if (flags.traceContext === true) options.traceContext = true
      if (flags.web === true) {
        web = new WebStarts(webDefaults(flags), options)
        const code = await runWeb(web, options, reports, curl, test, flags, io)
        throw new CliExit(code)
      }
      const code = await runFor(curl?.file ?? test, flags, io)(options, runIO(io, reports, reports.signal))
        .finally(() => curl?.remove())
        .finally(() => reports.finish())
      throw new CliExit(code)
    })
}

function applyCurlRunFlags(flags: CurlRunFlags, options: RunOptions, cwd: string): void {
  if (flags.http2 === true) options.http2 = true
  if (flags.h2c === true) options.h2c = true
  if (flags.cacert !== undefined) options.cacert = path.resolve(cwd, flags.cacert)
  if (flags.cert !== undefined) options.cert = path.resolve(cwd, flags.cert)
  if (flags.key !== undefined) options.key = path.resolve(cwd, flags.key)
  if (flags.resolve !== undefined) options.resolve = flags.resolve
}

/** A run of the config file's scenarios takes its tests and shapes from them: none on the command line. */
function checkScenarioFlags(tests: string[], flags: RunFlags): void {
  if (tests.length > 0 || flags.curl !== undefined) {
    throw new UsageError(`the --config file's [scenario.NAME] sections name the tests: got ${tests.length > 0 ? tests.join(' ') : '--curl'} as well`, 'leave the test off the command line, or run it without the scenarios')
  }
  const given = SHAPE_FLAGS.filter(([key]) => flags[key] !== undefined).map(([, flag]) => flag)
  if (given.length > 0) {
    throw new UsageError(`${given.join(', ')}: with scenarios, each [scenario.NAME] section gives its own shape`, 'move the value into the scenarios (users = …, duration = …), or remove it from [loads] and the command line')
  }
}

/** What a run gets from the CLI: its output, the reporters, live control and thresholds set up for it, and the signal that ends it. */
function runIO(io: CliIO, reports: ReportSetup, signal: AbortSignal): RunIO {
  return {
    stdout: io.stdout,
    stderr: io.stderr,
    isTTY: io.isTTY,
    ...(io.columns !== undefined ? { columns: io.columns } : {}),
    signal,
    // In-process callers give the CLI an env of their own: the workers' process.env starts from it.
    env: io.env,
    reporters: reports.reporters,
    ...(reports.control !== undefined ? { control: reports.control } : {}),
    ...(reports.thresholds !== undefined ? { thresholds: reports.thresholds } : {}),
  }
}

function checkUrl(url: string): string {
  try {
    const u = new URL(url)
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('not http')
    return url
  } catch {
    throw new UsageError(`--server-url expects an http:// or https:// URL: got '${url}'`)
  }
}

/**
 * `--web`: waits for the page's Start, runs, keeps the results on the page, and again, until
 * Ctrl-C. A run whose form the runner refuses late (a test that does not load) is reported and
 * the page offers another.
 */
async function runWeb(web: WebStarts, base: RunOptions, reports: ReportSetup, curl: { remove(): void } | undefined, test: string | undefined, flags: RunFlags, io: CliIO): Promise<number> {
  let code = 0
  let runs = 0
  try {
    io.stderr.write('web: open the dashboard above and press Start (Ctrl-C ends)\n')
    for (;;) {
      const form = await web.next(io.signal)
      if (form === undefined) break
      runs++
      try {
        // Ctrl-C ends the run and then the loop; the page's Stop goes through live control.
        code = await runFor(curl !== undefined ? base.address : test, flags, io)(web.options(form), runIO(io, reports, io.signal))
      } catch (err) {
        if (!(err instanceof UsageError)) throw err
        io.stderr.write(`error: ${err.message}\n`)
        code = 2
      }
      if (io.signal.aborted) break
      io.stderr.write('web: the run is over; its results stay on the page, which offers another (Ctrl-C ends)\n')
    }
  } finally {
    curl?.remove()
    await reports.finish()
  }
  return runs === 0 || io.signal.aborted ? 130 : code
}
