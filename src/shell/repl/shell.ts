import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import repl, { type REPLEval, type REPLServer } from 'node:repl'
import { inspect } from 'node:util'
import vm from 'node:vm'
import { clusterEngine } from '../../cluster/cluster-engine.js'
import type { BrokerOptions } from '../../cluster/nats-connection.js'
import { LoadsError } from '../../errors.js'
import { writeAtomically } from '../../util/write-atomically.js'
import { NetworkError } from '../../http/errors.js'
import type { RequestOptions } from '../../http/request-options.js'
import { Response } from '../../http/response.js'
import { localEngine, runTests } from '../../runner/run.js'
import type { HitSink } from '../../stats/hit-sink.js'
import { generateTestCase } from '../codegen.js'
import { defaultServerUrl } from '../test-module.js'
import { ClusterCommands } from './cluster-commands.js'
import { formatResponse, painter } from './format-response.js'
import { LineFeeder } from './line-feeder.js'
import { parseRunArgs } from './run-args.js'
import { ShellSession } from './shell-session.js'
import { chooseBody, parseShortCommand, VERBS, type ShortCommand } from './short-commands.js'

export interface ShellOptions {
  input: NodeJS.ReadableStream
  output: NodeJS.WritableStream
  /** A terminal on both ends: line editing, history, colours, tab completion. */
  terminal: boolean
  colors: boolean
  columns?: number
  /** Base of relative URLs (`get /path`), written as the saved test's `static serverUrl`. */
  serverUrl?: string
  insecure?: boolean
  timeoutMs?: number
  /** File kept between sessions (terminal only); undefined keeps none. */
  historyFile?: string
  /** Where `.save` writes and `.run` resolves from. */
  cwd: string
  /** Given: `.agents`, `.runs`, `.stop RUN` and `.run --agents N` use this broker. */
  broker?: BrokerOptions
  /** Aborted: the shell ends (and a `.run` in progress stops). */
  signal?: AbortSignal
  /**
   * The environment `.run`'s worker threads start from (the CLI's `CliIO.env`, which an
   * in-process caller may set apart from the process's); `process.env` when absent.
   */
  env?: NodeJS.ProcessEnv
}

/** Text the writer prints as it is (short commands' answers), where values are inspected. */
class Shown {
  constructor(readonly text: string) {}
}

/** The shell keeps no statistics of its own: the requests are for looking at. */
const NO_HITS: HitSink = { recordHit() {} }

const BODY_LINES = 40

/**
 * `loads shell`: node:repl with a loads `session` in scope, top-level await, short commands
 * (`get /path`, `post /path {"a":1}`, `headers`, `cookies`), and the dot commands that turn what
 * was done into a load test (`.save file.ts`, `.run -u 10 -c 5`). Resolves when the shell ends.
 */
export async function runShell(options: ShellOptions): Promise<void> {
  const paint = painter(options.colors)
  const session = new ShellSession({
    sink: NO_HITS,
    ...(options.serverUrl !== undefined ? { baseUrl: options.serverUrl } : {}),
    ...(options.insecure === true ? { insecure: true } : {}),
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
  })
  const cluster = options.broker === undefined ? undefined : new ClusterCommands(options.broker)
  const view = { headers: false, maxLines: BODY_LINES }
  let running: AbortController | undefined
  const feeder = options.terminal ? undefined : new LineFeeder(options.input)
  const out = (text: string): void => {
    options.output.write(`${text}\n`)
  }

  out(banner(options, paint))
  const server: REPLServer = repl.start({
    prompt: options.terminal ? paint('bold', 'loads> ') : 'loads> ',
    input: feeder?.stream ?? options.input,
    output: options.output,
    terminal: options.terminal,
    useColors: options.colors,
    ignoreUndefined: true,
    writer: (value: unknown) => {
      if (value instanceof Shown) return value.text
      if (value instanceof Response) return formatResponse(value, { headers: view.headers, maxLines: view.maxLines, colors: options.colors })
      return inspect(value, { colors: options.colors, depth: 4 })
    },
  })
  Object.defineProperty(server.context, 'session', { value: session, enumerable: true })
  server.context.last = undefined

  if (feeder !== undefined) {
    const displayPrompt = server.displayPrompt.bind(server)
    server.displayPrompt = (preserveCursor?: boolean) => {
      displayPrompt(preserveCursor)
      feeder.ready()
    }
  }

  const defaultEval = server.eval
  const shellEval: REPLEval = (code, context, file, callback) => {
    // `get` alone is JavaScript (a variable of that name), unless there is none: then the short
    // command lacks its path, which is worth saying rather than a ReferenceError.
    const bare = code.trim()
    if ((VERBS as readonly string[]).includes(bare.toLowerCase()) && !(bare in server.context)) {
      const verb = bare.toLowerCase()
      const err = new LoadsError('LOADS_ERR_SHELL_USAGE', `${verb} needs a path or a URL`, {
        hint: `${verb} /items${session.baseUrl === undefined ? ' (with --server-url)' : ''}, or ${verb} http://127.0.0.1:8080/items${verb === 'get' || verb === 'head' || verb === 'options' || verb === 'delete' ? '' : ' {"name":"x"}'}`,
      })
      callback(null, new Shown(errorText(err, paint)))
      return
    }
    const command = parseShortCommand(code)
    if (command === undefined) {
      defaultEval.call(server, code, context, file, callback)
      return
    }
    shortCommand(command).then(
      (value) => callback(null, value),
      (err: unknown) => {
        if (err instanceof NetworkError || err instanceof LoadsError) callback(null, new Shown(errorText(err, paint)))
        else callback(err as Error, undefined)
      },
    )
  }
  // node:repl reads `eval` and `completer` on every line and tab: replacing them keeps its defaults reachable.
  ;(server as { eval: REPLEval }).eval = shellEval

  type Completion = (line: string, callback: (err: Error | null, result: [string[], string]) => void) => void
  const completable = server as unknown as { completer: Completion }
  const defaultCompleter = completable.completer
  completable.completer = (line, callback) => {
    const path = /^\s*(?:get|post|put|patch|delete|head|options)\s+(\S*)$/i.exec(line)
    if (path !== null) {
      const partial = path[1]!
      const seen = [...new Set(session.recorded.map((r) => shownUrl(r.spec.url, session.baseUrl)))]
      callback(null, [seen.filter((url) => url.startsWith(partial)), partial])
      return
    }
    defaultCompleter.call(server, line, (err: Error | null, result: [string[], string]) => {
      const word = /^\s*([a-z]*)$/i.exec(line)?.[1]
      if (err !== null || word === undefined || word === '') {
        callback(err, result)
        return
      }
      const ours = [...VERBS, 'headers', 'cookies'].filter((name) => name.startsWith(word))
      // node:repl matches globals case-insensitively: `heade` would offer `Headers` beside `headers`.
      const theirs = (result?.[0] ?? []).filter((name) => !ours.some((own) => own.toLowerCase() === name.toLowerCase()))
      callback(null, [[...ours, ...theirs], word])
    })
  }

  async function shortCommand(command: ShortCommand): Promise<unknown> {
    switch (command.kind) {
      case 'request': {
        const requestOptions = await bodyOptions(command.body)
        const response = await session[command.verb](command.url, requestOptions)
        server.context.last = response
        return response
      }
      case 'headers':
        return new Shown(
          Object.entries(session.headers)
            .map(([name, value]) => `${paint('cyan', name)}: ${value}`)
            .join('\n'),
        )
      case 'set-header':
        for (const name of Object.keys(session.headers)) if (name.toLowerCase() === command.name.toLowerCase()) delete session.headers[name]
        session.headers[command.name.toLowerCase()] = command.value
        return new Shown(`${paint('cyan', command.name.toLowerCase())}: ${command.value}`)
      case 'remove-header': {
        const names = Object.keys(session.headers).filter((name) => name.toLowerCase() === command.name.toLowerCase())
        for (const name of names) delete session.headers[name]
        return new Shown(names.length > 0 ? `removed ${command.name.toLowerCase()}` : `no header ${command.name} to remove`)
      }
      case 'cookies': {
        const cookies = session.cookies.list()
        if (cookies.length === 0) return new Shown('no cookies')
        return new Shown(cookies.map((c) => `${c.name}=${c.value}  ${paint('dim', `${c.domain}${c.path}${c.secure ? ' secure' : ''}${c.httpOnly ? ' httpOnly' : ''}${c.expires ? ` expires ${c.expires.toISOString()}` : ''}`)}`).join('\n'))
      }
      case 'clear-cookies':
        session.cookies.clear()
        return new Shown('cookies cleared')
    }
  }

  async function bodyOptions(text: string): Promise<RequestOptions> {
    const choice = chooseBody(text)
    switch (choice.kind) {
      case 'none':
        return {}
      case 'json':
        return { json: choice.value }
      case 'form':
        return { data: choice.fields }
      case 'text':
        return { body: choice.text, headers: { 'content-type': 'text/plain; charset=utf-8' } }
      case 'expression': {
        let value: unknown
        try {
          value = await vm.runInContext(`(${choice.source})`, server.context)
        } catch (err) {
          throw new LoadsError('LOADS_ERR_SHELL_BODY', `the body is neither JSON nor a JavaScript value: ${(err as Error).message}`, {
            hint: 'write JSON (post /items {"name":"x"}), a form (a=1&b=2), or any JavaScript value ({name: x})',
          })
        }
        return typeof value === 'string' ? { body: value, headers: { 'content-type': 'text/plain; charset=utf-8' } } : { json: value }
      }
    }
  }

  /** The TestCase replaying what was done, with the statuses seen as assertions. */
  function moduleCode(): string {
    const requests = session.recorded
    const serverUrl = options.serverUrl ?? defaultServerUrl(requests.map((r) => r.spec))
    return generateTestCase(
      requests.map((r) => r.spec),
      {
        className: 'ShellTest',
        methodName: 'test_shell',
        source: 'loads shell',
        insecure: options.insecure === true,
        assertStatus: requests.map((r) => r.status),
        ...(serverUrl !== undefined ? { serverUrl } : {}),
      },
    )
  }

  /** A dot command whose work is asynchronous: the prompt comes back when it is done. */
  function defineAsync(name: string, help: string, action: (arg: string) => Promise<string | undefined>): void {
    server.defineCommand(name, {
      help,
      action(arg: string) {
        // A synchronous throw is an answer like any other: the shell goes on.
        Promise.resolve()
          .then(() => action(arg.trim()))
          .then(
            (text) => {
              if (text !== undefined) out(text)
            },
            (err: unknown) => out(errorText(err, paint)),
          )
          .finally(() => server.displayPrompt())
      },
    })
  }

  server.defineCommand('headers', {
    help: 'Show response headers or not: .headers on|off',
    action(arg: string) {
      const value = arg.trim()
      if (value === 'on' || value === 'off') view.headers = value === 'on'
      else if (value !== '') out('usage: .headers on|off')
      out(`response headers: ${view.headers ? 'shown' : 'hidden'}`)
      this.displayPrompt()
    },
  })
  server.defineCommand('body', {
    help: `How many body lines to show: .body 100, .body all (default ${BODY_LINES})`,
    action(arg: string) {
      const value = arg.trim()
      if (value === 'all') view.maxLines = Infinity
      else if (/^\d+$/.test(value) && Number(value) > 0) view.maxLines = Number(value)
      else if (value !== '') out('usage: .body N|all')
      out(`body lines shown: ${view.maxLines === Infinity ? 'all' : view.maxLines}`)
      this.displayPrompt()
    },
  })
  server.defineCommand('history', {
    help: 'The requests made so far, as .save and .run replay them',
    action() {
      const recorded = session.recorded
      if (recorded.length === 0) out('no request made yet')
      recorded.forEach((r, i) => out(`${String(i + 1).padStart(3)}  ${r.spec.method} ${shownUrl(r.spec.url, session.baseUrl)}  ${r.status === undefined ? paint('red', 'no answer') : `→ ${r.status}`}`))
      this.displayPrompt()
    },
  })
  server.defineCommand('forget', {
    help: 'Leave requests out of .save and .run: .forget 3, .forget all',
    action(arg: string) {
      const value = arg.trim()
      if (value === 'all') {
        session.recorded.length = 0
        out('forgot every request')
      } else if (/^\d+$/.test(value) && Number(value) >= 1 && Number(value) <= session.recorded.length) {
        const [gone] = session.recorded.splice(Number(value) - 1, 1)
        out(`forgot ${gone!.spec.method} ${shownUrl(gone!.spec.url, session.baseUrl)}`)
      } else {
        out(`usage: .forget N (1 to ${session.recorded.length}) or .forget all`)
      }
      this.displayPrompt()
    },
  })
  server.defineCommand('save', {
    help: 'Write a TestCase replaying the requests made (asserting the statuses seen): .save name.ts',
    action(arg: string) {
      out(save(arg.trim()))
      this.displayPrompt()
    },
  })
  defineAsync('run', 'Load-test the requests made, here and now: .run -u 10 -c 5 (or -d 30s; --agents N with --broker)', (arg) => loadTest(arg))
  defineAsync('agents', 'The cluster agents (with --broker)', () => needCluster().agents())
  defineAsync('runs', 'The runs stored on the broker (with --broker)', () => needCluster().runs())
  defineAsync('stop', 'Stop a cluster run: .stop RUN_ID (or a unique prefix)', (arg) => {
    if (arg === '') return Promise.resolve('usage: .stop RUN_ID (see .runs)')
    return needCluster().stop(arg)
  })

  function needCluster(): ClusterCommands {
    if (cluster === undefined) throw new LoadsError('LOADS_ERR_NO_BROKER', 'no broker: start the shell with --broker URL (or LOADS_BROKER) to drive a cluster')
    return cluster
  }

  function save(file: string): string {
    if (file === '') return 'usage: .save name.ts'
    if (!/\.m?ts$/.test(file)) return errorText(new LoadsError('LOADS_ERR_USAGE', `.save ${file}: the test is TypeScript; name it something.ts`), paint)
    const requests = session.recorded
    if (requests.length === 0) return 'nothing to save yet: make some requests first (get /path …)'
    const target = path.resolve(options.cwd, file)
    try {
      writeAtomically(target, moduleCode())
    } catch (err) {
      return errorText(new LoadsError('LOADS_ERR_USAGE', `cannot write ${file}: ${(err as Error).message}`), paint)
    }
    const asserted = requests.filter((r) => r.status !== undefined).length
    return `saved ${requests.length} request${requests.length === 1 ? '' : 's'} (${asserted} status assertion${asserted === 1 ? '' : 's'}) to ${file}; run it with:\n  loads-runner ${file} -u 10 -c 100`
  }

  async function loadTest(arg: string): Promise<string | undefined> {
    const args = parseRunArgs(arg)
    if (session.recorded.length === 0) return 'nothing to run yet: make some requests first (get /path …)'
    if (args.agents !== undefined) needCluster()
    const dir = mkdtempSync(path.join(os.tmpdir(), 'loads-shell-'))
    const file = path.join(dir, 'shell_test.ts')
    writeFileSync(file, moduleCode())
    const controller = new AbortController()
    running = controller
    try {
      const code = await runTests(
        {
          address: file,
          cwd: options.cwd,
          users: args.users,
          ...(args.hits !== undefined ? { hits: args.hits } : {}),
          ...(args.duration !== undefined ? { duration: args.duration } : {}),
          ...(args.workers !== undefined ? { workers: args.workers } : {}),
          ...(args.serverUrl !== undefined ? { serverUrl: args.serverUrl } : {}),
          ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
          insecure: options.insecure === true,
          quiet: args.quiet,
        },
        {
          stdout: options.output,
          stderr: options.output,
          isTTY: options.terminal,
          ...(options.columns !== undefined ? { columns: options.columns } : {}),
          signal: controller.signal,
          ...(options.env !== undefined ? { env: options.env } : {}),
        },
        args.agents === undefined || options.broker === undefined
          ? localEngine
          : clusterEngine({ broker: options.broker, agents: args.agents, workers: args.workers ?? null, notice: out }),
      )
      return paint(code === 0 ? 'green' : 'red', `.run: exit code ${code}${code === 0 ? ' (every run passed)' : ''}`)
    } finally {
      running = undefined
      rmSync(dir, { recursive: true, force: true })
    }
  }

  // Ctrl-C on a terminal reaches the REPL as a key, not a signal: it stops a load test in progress.
  server.on('SIGINT', () => {
    if (running !== undefined) {
      out('\nstopping the load test (the summary follows)')
      running.abort()
    }
  })

  if (options.terminal && options.historyFile !== undefined) {
    await new Promise<void>((resolve) => {
      server.setupHistory(options.historyFile!, (err) => {
        if (err !== null) out(paint('yellow', `history not kept: ${err.message}`))
        resolve()
      })
    })
  }

  await new Promise<void>((resolve) => {
    const onAbort = (): void => {
      running?.abort()
      server.close()
    }
    if (options.signal?.aborted) onAbort()
    options.signal?.addEventListener('abort', onAbort, { once: true })
    server.on('exit', () => {
      options.signal?.removeEventListener('abort', onAbort)
      feeder?.close()
      resolve()
    })
  })
  await session.close()
}

function banner(options: ShellOptions, paint: ReturnType<typeof painter>): string {
  const base = options.serverUrl === undefined ? 'no base URL: use full URLs, or start with --server-url' : `base URL ${options.serverUrl}`
  return [
    `${paint('bold', 'loads shell')}: \`session\` is a loads Session (${base}); \`last\` is the last response; await works.`,
    paint('dim', '  get /path · post /path {"a":1} · put/patch/delete/head/options · headers [Name value] · cookies'),
    paint('dim', `  .headers on · .body all · .history · .save name.ts · .run -u 10 -c 5${options.broker ? ' · .agents · .runs · .stop RUN' : ''} · .help · .exit`),
  ].join('\n')
}

/** A URL as typed: relative to the base when it is under it. */
function shownUrl(url: string, base: string | undefined): string {
  if (base === undefined) return url
  const origin = new URL(base).origin
  return url.startsWith(`${origin}/`) ? url.slice(origin.length) : url
}

function errorText(err: unknown, paint: ReturnType<typeof painter>): string {
  if (err instanceof LoadsError) return `${paint('red', `error: ${err.message}`)}${err.hint ? `\n${paint('dim', `hint: ${err.hint}`)}` : ''}`
  if (err instanceof Error) return paint('red', `error: ${err.message}`)
  return paint('red', `error: ${String(err)}`)
}
