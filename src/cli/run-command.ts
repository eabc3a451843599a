import { Command, Option } from 'commander'
import { UsageError } from '../errors.js'
import { formatExitCodeTable } from '../runner/exit-codes.js'
import { runTests, type RunOptions } from '../runner/run.js'
import type { CliIO } from './cli-io.js'
import { CliExit } from './cli-io.js'
import { addConfigOption } from './config-file.js'
import { addShapeOptions, applyShapeFlags, SHAPE_EXAMPLES, type ShapeFlags } from './shape-options.js'
import { runFor, wantsCluster } from './cluster-run.js'
import { curlTestFile } from './curl-command.js'
import { durationMs, positiveInt } from './options.js'
import { addReportOptions, setUpReports, type ReportFlags } from './report-options.js'

interface RunFlags extends ReportFlags, ShapeFlags {
  users?: string
  hits?: string
  duration?: string
  workers?: number
  serverUrl?: string
  timeout?: number
  testTimeout?: number
  insecure?: boolean
  quiet?: boolean
  curl?: string
}

const EXAMPLES = `
Examples:
  loads-runner example.TestWebSite.test_something               run once, to check the test works
  loads-runner example.TestWebSite.test_something -u 100 -c 10  100 users × 10 runs = 1000 runs
  loads-runner example.TestWebSite.test_something -u 10:20:30 -c 20
                                                                steps of 10, 20, 30 users: 1200 runs
  loads-runner tests/api.ts:Api -u 50 -d 2m                     50 users for 2 minutes
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
  return addConfigOption(addShapeOptions(addReportOptions(new Command('run')
    .description('run a load test: a TestCase method with N virtual users, each running it C times')
    .argument('[test]', 'the test: module.Class.method, path/file.ts:Class.method, … (or --curl)')
    .option('--curl <command>', "load-test a curl command, no test file needed: --curl 'curl https://… -H …'")
    .option('-u, --users <n>', 'concurrent virtual users, or steps run one after another: 10:20:30 (default: 1)')
    .option('-c, --hits <n>', 'runs of the test per user, or steps: 10:20 (default: 1)')
    .option('-d, --duration <time>', 'each user loops for this long per step instead of -c: 30s, 2m')
    .option('-w, --workers <n>', 'worker threads (default: one per core, at most one per user)', positiveInt('--workers'))
    .option('--server-url <url>', "base URL for relative URLs (overrides the class's static serverUrl)")
    .option('--timeout <time>', 'per-request timeout: 30s, 500ms', durationMs('--timeout'))
    .option('--test-timeout <time>', 'a test run still going after this is cut off and counted as an error', durationMs('--test-timeout'))
    .option('--insecure', 'do not verify TLS certificates')
    .option('-q, --quiet', 'no progress output, only the summary')
    .addOption(new Option('--snapshot-interval <time>', 'how often workers report').argParser(durationMs('--snapshot-interval')).hideHelp()))), io.cwd)
    .addHelpText('after', EXAMPLES)
    .action(async (test: string | undefined, flags: RunFlags & { snapshotInterval?: number }) => {
      // --ping-broker, --attach … need no test.
      const clusterOnly = test === undefined && flags.curl === undefined && wantsCluster(flags)
      if (!clusterOnly && (test === undefined) === (flags.curl === undefined)) {
        throw new UsageError(test === undefined ? 'no test given' : 'give a test or --curl, not both', 'loads-runner module.Class.method, or loads-runner --curl \'curl https://…\'')
      }
      const reports = await setUpReports(flags, io)
      const curl = flags.curl !== undefined ? curlTestFile(flags.curl, io) : undefined
      const options: RunOptions = { address: curl?.file ?? (test as string), cwd: io.cwd }
      if (flags.users !== undefined) options.users = flags.users
      applyShapeFlags(flags, options)
      if (flags.hits !== undefined) options.hits = flags.hits
      if (flags.duration !== undefined) options.duration = flags.duration
      if (flags.workers !== undefined) options.workers = flags.workers
      if (flags.serverUrl !== undefined) options.serverUrl = checkUrl(flags.serverUrl)
      if (flags.timeout !== undefined) options.timeoutMs = flags.timeout
      if (flags.testTimeout !== undefined) options.testTimeoutMs = flags.testTimeout
      if (flags.snapshotInterval !== undefined) options.snapshotIntervalMs = flags.snapshotInterval
      options.insecure = flags.insecure ?? false
      options.quiet = flags.quiet ?? false
      const code = await runFor(curl?.file ?? test, flags, io)(options, {
        stdout: io.stdout,
        stderr: io.stderr,
        isTTY: io.isTTY,
        ...(io.columns !== undefined ? { columns: io.columns } : {}),
        signal: reports.signal,
        reporters: reports.reporters,
        ...(reports.thresholds !== undefined ? { thresholds: reports.thresholds } : {}),
      })
        .finally(() => curl?.remove())
        .finally(() => reports.finish())
      throw new CliExit(code)
    })
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
