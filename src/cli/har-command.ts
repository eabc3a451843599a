import path from 'node:path'
import { Command } from 'commander'
import { UsageError } from '../errors.js'
import { HarParseError } from '../shell/har/har-parse-error.js'
import { harTestModule } from '../shell/test-module.js'
import { readRegularFile, UnreadableFile } from '../util/read-regular-file.js'
import { CliExit, type CliIO } from './cli-io.js'
import { checkBaseUrl, checkIdentifier, runHint, warner, writeGenerated } from './write-generated.js'

/** Larger recordings are refused: the whole file is parsed in memory (browsers export far less). */
const MAX_HAR_BYTES = 256 * 1024 * 1024

interface HarFlags {
  include?: string[]
  includeStatic?: boolean
  output?: string
  className?: string
  method?: string
  serverUrl?: string
  assertStatus: boolean
  keepCookies?: boolean
  keepConditional?: boolean
  think?: string
  groups: boolean
  correlate: boolean
}

const EXAMPLES = `
Examples:
  loads har checkout.har --include shop.example.com -o checkout.ts
  loads har checkout.har --include '*.example.com' --include-static
  loads-runner checkout.ts -u 20 -c 10 --server-url http://127.0.0.1:8080

Record with the browser's network panel ("Save all as HAR"). Requests are replayed in the order
the browser sent them, redirect hops included; each asserts the status recorded. Each run starts
with an empty cookie jar, seeded with the cookies the recording began with. Values the server
made (CSRF tokens, ids, redirect targets) are taken from the live responses: each is named in a
comment of the generated test. See docs/shell-curl-har.md.
`

/** `loads har recording.har`: prints (or `-o` writes) a TestCase that replays a browser recording. */
export function harCommand(io: CliIO): Command {
  return new Command('har')
    .description('turn a browser HAR recording into a TestCase that replays its requests in order')
    .argument('<file.har>', 'the recording')
    .option('--include <host>', 'keep only requests to this host (repeatable; *.example.com for subdomains)', collect)
    .option('--include-static', 'keep scripts, styles, images, fonts and media (left out by default)')
    .option('-o, --output <file.ts>', 'write the test to this file instead of printing it')
    .option('--class-name <name>', 'name of the TestCase class', 'HarReplay')
    .option('--method <name>', 'name of the test method', 'test_replay')
    .option('--server-url <url>', "the class's static serverUrl (default: the first request's origin)")
    .option('--no-assert-status', 'do not assert the recorded status of each request')
    .option('--keep-cookies', "keep each user's cookie jar across its runs (default: every run starts with an empty jar, as the recording did)")
    .option('--keep-conditional', 'send If-None-Match, If-Modified-Since, … as recorded (default: left out; the virtual user has no cache)')
    .option('--think <recorded>', 'recorded: pause before each page as long as the user did')
    .option('--no-groups', 'do not group requests by recorded page')
    .option('--no-correlate', 'send server-made values (CSRF tokens, ids, redirect targets) as recorded instead of taking them from live responses')
    .addHelpText('after', EXAMPLES)
    .action((file: string, flags: HarFlags) => {
      let json: string
      try {
        json = readRegularFile(path.resolve(io.cwd, file), MAX_HAR_BYTES).toString('utf8')
      } catch (err) {
        throw new HarParseError(`cannot read ${file}: ${err instanceof UnreadableFile ? err.reason : (err as Error).message}`)
      }
      if (flags.think !== undefined && flags.think !== 'recorded') {
        throw new UsageError(`--think ${flags.think}: loads har knows --think recorded (a fixed think time is loads-runner's --think)`)
      }
      const module = harTestModule(json, {
        onWarning: warner(io),
        assertStatus: flags.assertStatus,
        keepCookies: flags.keepCookies === true,
        keepConditional: flags.keepConditional === true,
        thinkRecorded: flags.think === 'recorded',
        groupPages: flags.groups,
        correlate: flags.correlate,
        ...(flags.include !== undefined ? { include: flags.include } : {}),
        ...(flags.includeStatic === true ? { includeStatic: true } : {}),
        ...(flags.className !== undefined ? { className: checkIdentifier('--class-name', flags.className) } : {}),
        ...(flags.method !== undefined ? { methodName: checkIdentifier('--method', flags.method) } : {}),
        ...(flags.serverUrl !== undefined ? { serverUrl: checkBaseUrl('--server-url', flags.serverUrl) } : {}),
        source: file,
      })
      if (module.requests.length === 0) {
        throw new HarParseError(`${file}: no request left to replay (see the warnings above; --include HOST and --include-static keep more)`)
      }
      if (flags.output === undefined) {
        io.stdout.write(module.code)
      } else {
        writeGenerated(flags.output, module.code, io)
        const n = module.requests.length
        io.stdout.write(`wrote ${flags.output} (${n} request${n === 1 ? '' : 's'}); run it with:\n  ${runHint(flags.output, io)}\n`)
      }
      throw new CliExit(0)
    })
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value]
}
