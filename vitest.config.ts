import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Load tests compete for two cores; running files one or two at a time keeps timings honest.
    maxWorkers: 2,
    fileParallelism: true,
  },
})
