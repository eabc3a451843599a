import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { startCountingServer, type CountingServer } from '../helpers/counting-server.js'
import { LOADS_RUNNER, runBin, tempProject, testResult } from '../helpers/cli.js'

const TEST = `
import { TestCase } from 'loads-runner'

export class Rows extends TestCase {
  async test_row() {
    const row = this.data as { id: string; name: string }
    const res = await this.session.get(process.env.TARGET + '/row/' + row.id + '?name=' + encodeURIComponent(row.name))
    this.assertEqual(res.status, 200)
  }
}
`

const ROWS = Array.from({ length: 6 }, (_, i) => ({ id: String(i), name: `user ${i}, "quoted"` }))
const CSV = `id,name\n${ROWS.map((r) => `${r.id},"${r.name.replace(/"/g, '""')}"`).join('\n')}\n`

describe('--data: rows handed to runs as this.data', () => {
  let server: CountingServer
  /** Requests per row id, and the row ids each user (told apart by a cookie) sent. */
  let perRow: Map<string, number>
  let perUser: Map<string, string[]>
  let names: Set<string>
  let dir: string
  beforeAll(async () => {
    let users = 0
    server = await startCountingServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x')
      const id = url.pathname.split('/')[2]!
      names.add(url.searchParams.get('name') ?? '')
      perRow.set(id, (perRow.get(id) ?? 0) + 1)
      let uid = /uid=(\d+)/.exec(req.headers.cookie ?? '')?.[1]
      if (uid === undefined) {
        uid = String(users++)
        res.setHeader('set-cookie', `uid=${uid}`)
      }
      perUser.set(uid, [...(perUser.get(uid) ?? []), id])
      res.end('ok')
    })
    dir = tempProject({
      'rows.ts': TEST,
      'users.csv': CSV,
      'users.jsonl': ROWS.slice(0, 5).map((r) => JSON.stringify(r)).join('\n') + '\n',
      'three.json': JSON.stringify(ROWS.slice(0, 3)),
      'users.json': JSON.stringify(ROWS),
    })
  })
  beforeEach(() => {
    perRow = new Map()
    perUser = new Map()
    names = new Set()
  })
  afterAll(() => server.close())

  const run = (args: string[]) => runBin(LOADS_RUNNER, ['rows.Rows.test_row', '-q', ...args], { cwd: dir, env: { TARGET: server.url } })

  it('round-robin (CSV): 12 runs over 2 workers use each of the 6 rows exactly twice', async () => {
    const r = await run(['-u', '3', '-c', '4', '-w', '2', '--data', 'users.csv'])
    expect(r.code).toBe(0)
    expect(testResult(r.stdout)).toEqual({ run: 12, errors: 0, failures: 0 })
    expect(Object.fromEntries(perRow)).toEqual({ '0': 2, '1': 2, '2': 2, '3': 2, '4': 2, '5': 2 })
    // CSV quoting survived: commas and doubled quotes inside a field.
    expect(names).toEqual(new Set(ROWS.map((row) => row.name)))
  })

  it('unique (JSONL): each of 4 users keeps its own row for all its runs, and no two users share one', async () => {
    const r = await run(['-u', '4', '-c', '3', '-w', '2', '--data', 'users.jsonl', '--data-mode', 'unique'])
    expect(r.code).toBe(0)
    expect(perUser.size).toBe(4)
    const rowOfUser = [...perUser.values()].map((ids) => {
      expect(new Set(ids).size).toBe(1)
      expect(ids).toHaveLength(3)
      return ids[0]
    })
    expect(new Set(rowOfUser)).toEqual(new Set(['0', '1', '2', '3']))
  })

  it('unique with fewer rows than users is refused before any request (exit 2)', async () => {
    const r = await run(['-u', '4', '-c', '1', '--data', 'three.json', '--data-mode', 'unique'])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/--data-mode unique needs a row per user: 4 users, but three\.json has 3 rows/)
    expect(perRow.size).toBe(0)
  })

  it('works with --rate too: 60 starts over 6 rows (JSON) in turn', async () => {
    const r = await run(['--rate', '60', '-d', '1s', '--max-users', '20', '--data', 'users.json'])
    expect(r.code).toBe(0)
    // Every start took the next row (a start dropped on a busy machine took none).
    const dropped = Number(/^Dropped starts: (\d+)/m.exec(r.stdout)?.[1])
    const counts = [...perRow.values()]
    expect(counts.reduce((a, b) => a + b, 0) + dropped).toBe(60)
    expect(perRow.size).toBe(6)
    expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1)
  })
})
