import type { RequestSpec } from '../request-spec.js'
import { CommandReader } from './command-reader.js'
import type { CommandWord } from './command-reader.js'
import { CurlParseError, describePosition } from './curl-parse-error.js'
import { DEFAULT_MAX_FILE_BYTES, readLocalFile } from './local-file.js'
import type { CurlRunFlags } from './run-flags.js'
import { shellStdin } from './shell-stdin.js'
import { expandWord, tokenize } from './tokenize.js'
import type { ShellToken } from './tokenize.js'

/** A request read from a curl command: a RequestSpec, nothing more. */
export type CurlRequest = RequestSpec

export interface ParseCurlOptions {
  /** Directory that `@file` paths are relative to. Defaults to the process's working directory. */
  cwd?: string
  /**
   * Where `$NAME` and `${NAME}` are looked up (the importing shell's environment), after
   * assignments the pasted text makes itself (`export TOKEN=…`). Unset names expand to nothing,
   * as in the shell, with a warning. Default: no variables.
   */
  env?: Readonly<Record<string, string | undefined>>
  /** Largest file read at import (`-d @f`, `-F f=@…`, `-T f`), in bytes. Default 5 MiB. */
  maxFileBytes?: number
  /** Hears about things accepted but not reproduced (also kept as `notes` on the request). */
  onWarning?: (message: string) => void
}

/** Requests, and the connection options the commands ask of the run. */
export interface ParsedCurl {
  requests: CurlRequest[]
  runFlags: CurlRunFlags
}

/**
 * Turns one or more curl commands (several lines of "Copy all as cURL" work too) into requests,
 * one per URL, in order. Follows curl's own rules: data makes a POST, -G moves it to the query,
 * -I makes a HEAD, -T a PUT, -X overrides them; -d joins pieces with `&` and strips CR/LF from
 * @files; redirects are followed only with -L. Throws CurlParseError for text that is not curl,
 * bad quoting, or an option that would change the request in a way we cannot reproduce.
 */
export function parseCurl(command: string, options: ParseCurlOptions = {}): CurlRequest[] {
  return parseCurlCommands(command, options).requests
}

/**
 * parseCurl, plus the run options (`--http2`, `--cert` …). Reads what a shell would: variables
 * from `env` and from earlier assignments, standard input from `echo … |`, `printf … |`,
 * `cat f |` or `< f`. Time and memory are linear in the length of the text.
 */
export function parseCurlCommands(command: string, options: ParseCurlOptions = {}): ParsedCurl {
  const { tokens, warnings } = tokenize(command)
  const warn = (message: string): void => options.onWarning?.(message)
  for (const message of warnings) warn(message)
  const cwd = options.cwd ?? process.cwd()
  const maxFileBytes = options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES
  const variables = new Map<string, string>()
  const noted = new Set<string>()
  let commandNotes: string[] = []
  const lookup = (name: string): string | undefined => {
    const value = variables.has(name) ? variables.get(name) : options.env?.[name]
    if (!noted.has(name)) {
      noted.add(name)
      const message = value === undefined
        ? `$${name} is not set: expanded to nothing, as the shell would (set it and import again)`
        : `$${name} expanded at import${variables.has(name) ? '' : ' from the environment'}; its value is written into the test`
      warn(message)
      commandNotes.push(message)
    }
    return value
  }
  const expand = (token: ShellToken): CommandWord => ({ value: expandWord(token, lookup), position: token.position })

  const runFlags: CurlRunFlags = {}
  const requests: CurlRequest[] = []
  let commands = 0
  let firstOther: ShellToken | undefined
  for (const pipeline of splitPipelines(tokens, command, warn)) {
    for (let p = 0; p < pipeline.length; p++) {
      const { words: all, input: redirect } = pipeline[p] as SimpleCommand
      commandNotes = []
      // A pasted prompt (`$ curl …`) or environment assignments (`TOKEN=x curl …`) before curl.
      let skip = 0
      while (skip < all.length && /^(?:\$|%|[A-Za-z_][A-Za-z0-9_]*=.*)$/s.test(all[skip]?.value ?? '')) skip++
      if (skip === all.length && pipeline.length === 1) {
        // `TOKEN=abc` on a line of its own sets a shell variable for the lines after it.
        for (const word of all) assign(variables, expand(word).value)
        continue
      }
      const words = all.slice(skip)
      if (words.length === 0) continue
      const first = words[0] as ShellToken
      if (first.value === 'export' && pipeline.length === 1) {
        for (const word of words.slice(1)) assign(variables, expand(word).value)
        warn(`read ${JSON.stringify(words.map((word) => word.value).join(' ').slice(0, 60))} as variables for the commands after it`)
        continue
      }
      if (!/^(?:.*[/\\])?curl(?:\.exe)?$/i.test(first.value)) {
        if (first.value.startsWith('-') && skip === 0) {
          throw new CurlParseError(
            `${describePosition(command, first.position)} starts with the option ${JSON.stringify(first.value)} ` +
              'outside any curl command: did the line before it lose its trailing backslash (\\) continuation?',
            { position: first.position, option: first.value },
          )
        }
        // Docs often surround curl with other shell lines (`echo '{…}' |`, `&& echo ok`).
        if (!(p < pipeline.length - 1 && isCurl(pipeline[p + 1]))) {
          firstOther ??= first
          warn(`skipped ${JSON.stringify(words.map((word) => word.value).join(' ').slice(0, 60))}: not a curl command`)
        }
        continue
      }
      commands++
      const feeder = p > 0 ? (pipeline[p - 1] as SimpleCommand) : undefined
      let stdin: { bytes: Buffer; from: string } | undefined
      if (redirect !== undefined) {
        const file = expand(redirect).value
        stdin = { bytes: readLocalFile(file, '<', cwd, maxFileBytes), from: `the file ${JSON.stringify(file)}` }
      } else if (feeder !== undefined) {
        stdin = shellStdin(feeder.words.map(expand), { cwd, maxFileBytes, warn })
      }
      const reader = new CommandReader({ input: command, cwd, maxFileBytes, stdin, runFlags, warn })
      for (const request of reader.read(words.slice(1).map(expand))) {
        // Unexpanded shell text and expanded variables end up in the generated code: say so there too.
        const remarks = [...warnings, ...commandNotes]
        if (remarks.length > 0) request.notes = [...remarks, ...(request.notes ?? [])]
        requests.push(request)
      }
    }
  }
  if (commands === 0) {
    throw new CurlParseError(
      firstOther === undefined
        ? 'not a curl command: the text is empty'
        : `not a curl command: ${describePosition(command, firstOther.position)} starts with ` +
            `${JSON.stringify(firstOther.value.slice(0, 40))}`,
      firstOther === undefined ? {} : { position: firstOther.position },
    )
  }
  // curl reads the key from the certificate's file when --key is not given; the runner wants both.
  if (runFlags.cert !== undefined && runFlags.key === undefined) runFlags.key = runFlags.cert
  return { requests, runFlags }
}

function assign(variables: Map<string, string>, text: string): void {
  const eq = text.indexOf('=')
  if (eq > 0 && /^[A-Za-z_][A-Za-z0-9_]*$/.test(text.slice(0, eq))) variables.set(text.slice(0, eq), text.slice(eq + 1))
}

function isCurl(command: SimpleCommand | undefined): boolean {
  const words = command?.words ?? []
  const first = words.find((word) => !/^(?:\$|%|[A-Za-z_][A-Za-z0-9_]*=.*)$/s.test(word.value))
  return first !== undefined && /^(?:.*[/\\])?curl(?:\.exe)?$/i.test(first.value)
}

/** A command's words, and the file its standard input is redirected from (`< body.json`). */
interface SimpleCommand {
  words: ShellToken[]
  input: ShellToken | undefined
}

/**
 * Cuts the token stream into pipelines of simple commands. Output redirections are dropped; a
 * pipe after a curl command (`| jq`) ends what is read of that pipeline.
 */
function splitPipelines(tokens: readonly ShellToken[], input: string, warn: (message: string) => void): SimpleCommand[][] {
  const pipelines: SimpleCommand[][] = [[{ words: [], input: undefined }]]
  const current = (): SimpleCommand => {
    const pipeline = pipelines[pipelines.length - 1] as SimpleCommand[]
    return pipeline[pipeline.length - 1] as SimpleCommand
  }
  let skipping = false
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i] as ShellToken
    if (token.kind === 'word') {
      if (!skipping) current().words.push(token)
      continue
    }
    if (['\n', ';', '&&', '||', '&'].includes(token.value)) {
      pipelines.push([{ words: [], input: undefined }])
      skipping = false
    } else if (token.value === '|') {
      if (skipping || isCurl(current())) {
        if (!skipping) warn(`ignored the pipe at ${describePosition(input, token.position)} and what follows it`)
        skipping = true
      } else {
        pipelines[pipelines.length - 1]?.push({ words: [], input: undefined })
      }
    } else if (token.value === '<' && tokens[i + 1]?.kind === 'op' && tokens[i + 1]?.value === '<') {
      throw new CurlParseError(
        `the here-document at ${describePosition(input, token.position)} is not supported: put the body in -d '…', ` +
          "or pipe it in with echo '…' | curl … -d @-",
        { position: token.position },
      )
    } else if (token.value === '<') {
      const target = tokens[i + 1]
      if (target?.kind === 'word') {
        if (!skipping) current().input = target
        i++
      }
    } else if (tokens[i + 1]?.kind === 'word') {
      // An output redirection (`> out.json`, `2>&1`): its target is the next word.
      i++
    }
  }
  return pipelines.map((pipeline) => pipeline.filter((command) => command.words.length > 0)).filter((p) => p.length > 0)
}
