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
  },
})
