/**
 * The dashboard's control routes (docs/live-control.md): `POST /api/scale {"users": N}` or
 * `{"rate": R}`, `POST /api/pause`, `POST /api/resume`, and `POST /api/start` for a runner started
 * with `--web`. The dashboard checks Host, Origin and the token first; this reads the body,
 * checks the change and hands it to the run's LiveControl.
 */
import type { IncomingMessage } from 'node:http'
import { parseChange } from '../../load/control.js'
import { ControlError, type LiveControl } from '../../runner/live-control.js'

const CONTROL_PATHS = new Set(['/api/scale', '/api/pause', '/api/resume', '/api/start'])
/** A control request's body is a small JSON object; more is refused, bytes. */
const MAX_BODY_BYTES = 16 * 1024

/** Who sent a request: the page and `loads ctl` say so in `X-Loads-By`; anything else is the API. */
export function changedBy(req: IncomingMessage): 'page' | 'cli' | 'api' {
  const by = req.headers['x-loads-by']
  return by === 'page' || by === 'cli' ? by : 'api'
}

export function isControlPath(path: string): boolean {
  return CONTROL_PATHS.has(path)
}

/** What `POST /api/start` does (the `--web` runner's form); absent when the run started on its own. */
export type StartHandler = (body: unknown) => { started: true } | string

export function controlRoute(
  path: string,
  req: IncomingMessage,
  control: LiveControl | undefined,
  reply: (status: number, body: unknown) => void,
  start?: StartHandler,
): void {
  readJson(req).then(
    (body) => {
      if (body instanceof Error) return reply(400, { error: body.message })
      const action = path.slice('/api/'.length)
      if (action === 'start') {
        if (start === undefined) return reply(409, { error: 'this run started with the runner: nothing to start (loads-runner TEST --web waits for a start)' })
        const started = start(body)
        return typeof started === 'string' ? reply(409, { error: started }) : reply(202, started)
      }
      if (control === undefined) return reply(409, { error: 'this dashboard takes no live control' })
      const change = parseChange(action, body)
      if (typeof change === 'string') return reply(400, { error: change })
      return Promise.resolve()
        .then(() => control.apply(change, changedBy(req)))
        .then(
          (event) => reply(202, { applied: event }),
          (err: unknown) => {
            if (err instanceof ControlError) return reply(err.status, { error: err.message, ...(err.hint !== undefined ? { hint: err.hint } : {}) })
            throw err
          },
        )
    },
    (err: unknown) => reply(500, { error: (err as Error).message }),
  )
}

/** The request's body as JSON ({} when empty), or an Error saying why not. */
async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > MAX_BODY_BYTES) return new Error(`the body is over ${MAX_BODY_BYTES} bytes`)
    chunks.push(chunk)
  }
  const text = Buffer.concat(chunks).toString('utf8').trim()
  if (text === '') return {}
  try {
    return JSON.parse(text) as unknown
  } catch {
    return new Error('the body is not JSON: send {"users": N} or {"rate": R}')
  }
}
