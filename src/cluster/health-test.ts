import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { makeTempFolder } from '../util/private-temp.js'

/**
 * The test `--check-cluster` runs when given none: proof that an agent can receive a bundle,
 * load it, run it on a worker thread and report — plus one hit when there is a server to hit.
 */
export function writeHealthTest(serverUrl: string | undefined): { file: string; address: string } {
  const dir = makeTempFolder('health-')
  const file = path.join(dir, 'cluster_health.ts')
  const body =
    serverUrl === undefined
      ? `this.assertTrue(typeof this.session.get === 'function', 'the agent has no HTTP session')`
      : `const res = await this.session.get('/')\n    this.assertTrue(res.status < 500, \`the server answered \${res.status}\`)`
  writeFileSync(
    file,
    `import { TestCase } from 'loads-runner'

export class ClusterHealth extends TestCase {
  async test_health() {
    ${body}
  }
}
`,
  )
  return { file, address: `${file}:ClusterHealth.test_health` }
}
