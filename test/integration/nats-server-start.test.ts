import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type AddressInfo } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { findNatsServer, natsServerConfig, spawnNatsServer, waitForBroker } from '../../src/cluster/nats-server-process.js'

describe('nats-server that cannot start', () => {
  it('says its own error first (the port in use), not the JetStream banner before it', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'loads-test-nats-'))
    const busy = createServer()
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve))
    const { port } = busy.address() as AddressInfo
    try {
      const conf = path.join(dir, 'nats.conf')
      const log = path.join(dir, 'nats-server.log')
      // An earlier start's lines in the same log must not be mistaken for this one's.
      writeFileSync(log, '[1] 2026/01/01 00:00:00.000000 [ERR] an old error of another start\n')
      writeFileSync(conf, natsServerConfig({ host: '127.0.0.1', port, maxPayload: '1MB', storeDir: path.join(dir, 'store'), user: 'u', password: 'p', serverName: 'loads_test' }))
      const child = spawnNatsServer(findNatsServer(undefined, process.env), conf, log)
      const failure = await waitForBroker(child, '127.0.0.1', port, log, 20_000).then(
        () => undefined,
        (err: Error & { code?: string; hint?: string }) => err,
      )
      expect(failure?.code).toBe('LOADS_ERR_BROKER_START')
      expect(failure?.message).toMatch(new RegExp(`^nats-server could not start: Error listening on port: 127\\.0\\.0\\.1:${port}, .*address already in use`))
      expect(failure?.message).not.toContain('JETSTREAM')
      expect(failure?.message).not.toContain('old error')
      expect(failure?.hint).toBe(`see ${log}`)
    } finally {
      busy.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
