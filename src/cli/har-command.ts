import { readFileSync } from 'node:fs'
import path from 'node:path'
import { Command } from 'commander'
import { HarParseError } from '../shell/har/har-parse-error.js'
import { harTestModule } from '../shell/test-module.js'
import { CliExit, type CliIO } from './cli-io.js'
import { checkBaseUrl, checkIdentifier, runHint, warner, writeGenerated } from './write-generated.js'

interface HarFlags {
  include?: string[]
  includeStatic?: boolean
  output?: string
  className?: string
  method?: string
  serverUrl?: string
  assertStatus: boolean
}

const EXAMPLES = `
Examples:
  loads har checkout.har --include shop.example.com -o checkout.ts
  loads har checkout.har --include '*.example.com' --include-static
  loads-runner checkout.ts -u 20 -c 10 --server-url http://127.0.0.1:8080

Record with the browser's network panel ("Save all as HAR"). Requests are replayed in order,
redirect hops included (the recording holds each one); each asserts the status recorded.
Cookies go through the session's jar: ones the recording never saw being set are seeded first.
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
    .addHelpText('after', EXAMPLES)
    .action((file: string, flags: HarFlags) => {
      let json: string
      try {
        json = readFileSync(path.resolve(io.cwd, file), 'utf8')
      } catch (err) {
        throw new HarParseError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`)
      }
      const module = harTestModule(json, {
        onWarning: warner(io),
        assertStatus: flags.assertStatus,
        ...(flags.include !== undefined ? { include: flags.include } : {}),
        ...(flags.includeStatic === true ? { includeStatic: true } : {}),
        ...(flags.className !== undefined ? { className: checkIdentifier('--class-name', flags.className) } : {}),
        ...(flags.method !== undefined ? { methodName: checkIdentifier('--method', flags.method) } : {}),
        ...(flags.serverUrl !== undefined ? { serverUrl: checkBaseUrl('--server-url', flags.serverUrl) } : {}),
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
