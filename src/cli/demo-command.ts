import { Command } from 'commander'
import { formatDemoRoutes } from '../demo/demo-routes.js'
import { startDemoServer, type DemoServer } from '../demo/demo-server.js'
import { UsageError } from '../errors.js'
import { runTests } from '../runner/run.js'
import { CliExit, type CliIO } from './cli-io.js'
import { positiveInt, tcpPort } from './options.js'

/**
 * `loads demo`: a real load test end to end with no server of the user's: starts the demo
 * target on 127.0.0.1, runs the shipped blog example against it, and checks the count.
 */
export function demoCommand(io: CliIO): Command {
  return new Command('demo')
    .description('run a real load test against the demo target shipped with Loads (or --serve it)')
    .option('-u, --users <n>', 'virtual users, or steps', '10:20:30')
    .option('-c, --hits <n>', 'runs per user, or steps', '20')
    .option('-w, --workers <n>', 'worker threads', positiveInt('--workers'))
    .option('--serve', 'only start the demo target and wait (Ctrl-C to stop)')
    .option('--port <port>', 'port for --serve (0: a free one)', tcpPort('--port'), 8089)
    .option('--host <host>', 'address for --serve', '127.0.0.1')
    .addHelpText('after', `\nRoutes of the demo target (also listed on its home page):\n${formatDemoRoutes()}\n`)
    .action(async (flags: { users: string; hits: string; workers?: number; serve?: boolean; port: number; host: string }) => {
      if (flags.serve) {
        if (io.interrupt) io.interrupt.stopping = 'stopping the demo target'
        const server = await serve(flags.host, flags.port)
        io.stdout.write(`demo target listening on ${server.url} (Ctrl-C to stop); its routes:\n${formatDemoRoutes()}\n`)
        await new Promise<void>((resolve) => io.signal.addEventListener('abort', () => resolve(), { once: true }))
        await server.close()
        io.stdout.write(`demo target received ${server.count()} requests\n`)
        throw new CliExit(0)
      }
      const server = await startDemoServer()
      const address = 'loads.examples.test_blog.TestWebSite.test_something'
      io.stdout.write(`demo target on ${server.url}\nloads-runner ${address} -u ${flags.users} -c ${flags.hits} --server-url ${server.url}\n\n`)
      let code: number
      try {
        code = await runTests(
          {
            address,
            cwd: io.cwd,
            users: flags.users,
            hits: flags.hits,
            serverUrl: server.url,
            ...(flags.workers !== undefined ? { workers: flags.workers } : {}),
          },
          { stdout: io.stdout, stderr: io.stderr, isTTY: io.isTTY, ...(io.columns ? { columns: io.columns } : {}), signal: io.signal, env: io.env },
        )
      } finally {
        await server.close()
      }
      io.stdout.write(`\nthe demo target counted ${server.count()} requests received\n`)
      throw new CliExit(code)
    })
}

/** Starts the demo target where the user asked; an address it cannot take is a usage error. */
async function serve(host: string, port: number): Promise<DemoServer> {
  try {
    return await startDemoServer({ host, port })
  } catch (err) {
    const e = err as NodeJS.ErrnoException
    const why: Record<string, string> = {
      EADDRINUSE: 'the port is in use',
      EACCES: 'permission denied (ports below 1024 need privileges)',
      EADDRNOTAVAIL: 'no interface of this machine has that address',
      ENOTFOUND: 'no such host',
      EAI_AGAIN: 'the host name could not be resolved',
    }
    const reason = e.code !== undefined ? why[e.code] : undefined
    if (reason === undefined) throw err
    throw new UsageError(
      `loads demo --serve: cannot listen on ${host}:${port}: ${reason}`,
      e.code === 'EADDRINUSE' || e.code === 'EACCES' ? 'pick another --port (--port 0 picks a free one)' : 'pick another --host, e.g. 127.0.0.1',
      'LOADS_ERR_DEMO_LISTEN',
    )
  }
}
