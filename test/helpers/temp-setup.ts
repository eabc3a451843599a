// vitest setupFiles: runs in every test file; removes the folders the file's tests and helpers made
// with testTemp()/trackTemp() once the file is done (after its own afterAll hooks stop processes).
// Before a retried test (vitest.config.ts: retry 1), the servers' counts go back to zero
// (test/helpers/retry-reset.ts).
import { afterAll, afterEach, beforeEach } from 'vitest'
import { resetForRetry } from './retry-reset.js'
import { removeTestTemps } from './temp.js'

beforeEach((context) => {
  if ((context.task.result?.retryCount ?? 0) > 0) resetForRetry()
})

// LOADS_TEST_FORCE_RETRY=1 fails every test's first attempt after it ran whole, so the run shows
// which tests could not pass their retry (state a failed attempt leaves behind). A check of the
// suite, not a mode to run it in.
if (process.env.LOADS_TEST_FORCE_RETRY === '1') {
  afterEach((context) => {
    if ((context.task.result?.retryCount ?? 0) === 0 && context.task.result?.state !== 'fail') throw new Error('LOADS_TEST_FORCE_RETRY: first attempt failed on purpose')
  })
}

afterAll(() => removeTestTemps())
