/**
 * What a retried test needs put back. vitest.config.ts retries a failed test once; the servers a
 * file starts in beforeAll would still hold the failed attempt's requests, and a test that asserts
 * "hits = what the server counted" could then never pass its retry. The counting servers register
 * here how to forget what they received; test/helpers/temp-setup.ts calls every registered reset
 * before a retry (never before a first attempt, so counts that several tests of a file add up are
 * left alone).
 */
const resets = new Set<() => void>()

/** Runs `reset` before each retried test of this file, until the returned function is called. */
export function resetOnRetry(reset: () => void): () => void {
  resets.add(reset)
  return () => resets.delete(reset)
}

export function resetForRetry(): void {
  for (const reset of resets) reset()
}
