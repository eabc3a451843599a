import type { Reporter, TestCase, TestModule } from 'vitest/node'

/**
 * Names every test that failed and then passed on its retry (vitest.config.ts: `retry: 1`), at the
 * end of the run, so a flaky test is seen and mended rather than hidden by the retry. A test that
 * fails twice still fails the run.
 */
export default class FlakyReporter implements Reporter {
  private readonly flaky: string[] = []

  onTestCaseResult(test: TestCase): void {
    const d = test.diagnostic()
    if (d?.flaky) this.flaky.push(`${test.module.moduleId.replace(`${process.cwd()}/`, '')} > ${test.fullName}`)
  }

  onTestRunEnd(_modules: ReadonlyArray<TestModule>): void {
    if (this.flaky.length === 0) return
    const lines = [
      '',
      `FLAKY: ${this.flaky.length} test(s) failed once and passed on the retry; each is a defect to mend:`,
      ...this.flaky.map((name) => `  - ${name}`),
      '',
    ]
    process.stdout.write(`${lines.join('\n')}\n`)
  }
}
