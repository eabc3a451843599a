// vitest setupFiles: runs in every test file; removes the folders the file's tests and helpers made
// with testTemp()/trackTemp() once the file is done (after its own afterAll hooks stop processes).
// Before a retried test (vitest.config.ts: retry 1), the servers' counts go back to zero
// (test/helpers/retry-reset.ts).
import { afterAll, beforeEach } from 'vitest'
import { resetForRetry } from './retry-reset.js'
import { removeTestTemps } from './temp.js'

beforeEach((context) => {
  if ((context.task.result?.retryCount ?? 0) > 0) resetForRetry()
})

afterAll(() => removeTestTemps())
