import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The suite runs in a temporary directory of its own and fails if it leaves loads-* there;
    // each file removes the folders its tests made (test/helpers/temp.ts).
    globalSetup: ['test/global-temp-check.ts'],
    setupFiles: ['test/helpers/temp-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Load tests compete for two cores; running files one or two at a time keeps timings honest.
    maxWorkers: 2,
    fileParallelism: true,
    // Real servers, real Chromium and load runs on two shared cores: a timing check can lose a
    // race with the machine once. One retry keeps CI from being lost to that; a test that fails
    // twice still fails the run, and test/flaky-reporter.ts names every test that needed the
    // retry at the end, so it is seen and mended, not hidden.
    retry: 1,
    reporters: ['default', './test/flaky-reporter.ts'],
  },
})
