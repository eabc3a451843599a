import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Command } from 'commander'
import { UsageError } from '../errors.js'
import { runFlagWords, shellWords, type CurlRunFlags } from '../shell/curl/run-flags.js'
import { curlTestModule } from '../shell/test-module.js'
import { CliExit, type CliIO } from './cli-io.js'
import { checkBaseUrl, checkIdentifier, runHint, warner, writeGenerated } from './write-generated.js'

interface CurlFlags {
  output?: string
  className?: string
  method?: string
  serverUrl?: string
}

const EXAMPLES = `
Examples:
  loads curl 'curl https://api.example.com/items -H "Accept: application/json"'
  loads curl "$(pbpaste)" -o items.ts          a browser's "Copy as cURL", saved as a test
  pbpaste | loads curl - -o items.ts             the same, read from stdin (several commands too)
  loads-runner --curl 'curl https://…' -u 10 -c 100
                                                 load-test a curl command without a file

Options a load test cannot reproduce (--proxy, --digest, …) are refused by name; --http2,
--cert, --key, --cacert and --resolve become loads-runner's own flags (printed with the run
command); ones that only change what curl prints are ignored; the rest become remarks in the
test. Files the command names (-d @f, -F f=@…, -T f) are read at import and embedded, each named
in a warning; devices, FIFOs, /proc and files over 5 MiB are refused. $VARIABLES are expanded
from the environment at import.
`

/** `loads curl 'curl …'`: prints (or `-o` writes) a TestCase doing what the curl command does. */
export function curlCommand(io: CliIO): Command {
  return new Command('curl')
    .description('turn a curl command (as "Copy as cURL" and API docs write it) into a TestCase')
    .argument('<command...>', "the curl command, quoted as one argument: 'curl https://… -H …' (or - to read it from stdin)")
    .option('-o, --output <file.ts>', 'write the test to this file instead of printing it')
    .option('--class-name <name>', 'name of the TestCase class', 'CurlTest')
    .option('--method <name>', 'name of the test method', 'test_curl')
    .option('--server-url <url>', "the class's static serverUrl (default: the first URL's origin)")
    .addHelpText('after', EXAMPLES)
    .action(async (words: string[], flags: CurlFlags) => {
      const command = await commandText(words, io)
      const module = curlTestModule(command, {
        cwd: io.cwd,
        env: io.env,
        onWarning: warner(io),
        ...(flags.className !== undefined ? { className: checkIdentifier('--class-name', flags.className) } : {}),
        ...(flags.method !== undefined ? { methodName: checkIdentifier('--method', flags.method) } : {}),
        ...(flags.serverUrl !== undefined ? { serverUrl: checkBaseUrl('--server-url', flags.serverUrl) } : {}),
      })
      if (flags.output === undefined) {
        io.stdout.write(module.code)
      } else {
        writeGenerated(flags.output, module.code, io)
        const extra = runFlagWords(module.runFlags ?? {})
        const hint = extra.length === 0 ? runHint(flags.output, io) : `${runHint(flags.output, io)} ${shellWords(extra)}`
        io.stdout.write(`wrote ${flags.output} (${plural(module.requests.length, 'request')}); run it with:\n  ${hint}\n`)
      }
      throw new CliExit(0)
    })
}

/**
 * `loads-runner --curl '…'`: the module for a curl command, written to a fresh temporary folder
 * (so a run needs no file of the user's); `file` is a test address, `remove` deletes the folder.
 */
export function curlTestFile(
  command: string,
  io: Pick<CliIO, 'cwd' | 'stderr' | 'env'>,
): { file: string; remove: () => void; runFlags: CurlRunFlags } {
  const module = curlTestModule(command, { cwd: io.cwd, env: io.env, onWarning: warner(io) })
  const dir = mkdtempSync(path.join(os.tmpdir(), 'loads-curl-'))
  const file = path.join(dir, 'curl_test.ts')
  writeFileSync(file, module.code)
  return { file, remove: () => rmSync(dir, { recursive: true, force: true }), runFlags: module.runFlags ?? {} }
}

/**
 * The command as one string. Several words mean the shell split an unquoted command
 * (`loads curl -- curl -H 'A: b' https://…`): they are re-quoted so the parser sees them as given.
 */
async function commandText(words: string[], io: CliIO): Promise<string> {
  if (words.length === 1 && words[0] === '-') {
    if (io.stdin === undefined) throw new UsageError('no standard input to read the curl command from')
    return readAll(io.stdin)
  }
  if (words.length === 1) return words[0]!
  return shellWords(words)
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk)
  return Buffer.concat(chunks).toString('utf8')
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`
}
