import { Command } from 'commander'
import { startDemoServer } from '../demo/demo-server.js'
import { runTests } from '../runner/run.js'
import { CliExit, type CliIO } from './cli-io.js'
import { positiveInt } from './options.js'

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
    .option('--port <port>', 'port for --serve', '8089')
    .option('--host <host>', 'address for --serve', '127.0.0.1')
    .action(async (flags: { users: string; hits: string; workers?: number; serve?: boolean; port: string; host: string }) => {
      if (flags.serve) {
        const server = await startDemoServer({ host: flags.host, port: Number(flags.port) })
        io.stdout.write(`demo target listening on ${server.url} (Ctrl-C to stop)\n`)
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
          { stdout: io.stdout, stderr: io.stderr, isTTY: io.isTTY, ...(io.columns ? { columns: io.columns } : {}), signal: io.signal },
        )
      } finally {
        await server.close()
      }
      io.stdout.write(`\nthe demo target counted ${server.count()} requests received\n`)
      throw new CliExit(code)
    })
}
