import type { Reporter, TestCase, TestModule } from 'vitest/node'

/** Lines of a failed attempt's error kept in the report: its message and the first frames. */
const ERROR_LINES = 12

/**
 * Names every test that failed and then passed on its retry (vitest.config.ts: `retry: 1`), at the
 * end of the run, with the error of the attempt that failed (vitest keeps it on the passed result;
 * the default reporter shows nothing of it), so a flaky test is seen and can be mended rather than
 * hidden by the retry. A test that fails twice still fails the run.
 */
export default class FlakyReporter implements Reporter {
  private readonly flaky: string[] = []

  onTestCaseResult(test: TestCase): void {
    const d = test.diagnostic()
    if (!d?.flaky) return
    this.flaky.push(`${test.module.moduleId.replace(`${process.cwd()}/`, '')} > ${test.fullName}`)
    for (const error of test.result().errors ?? []) {
      const text = `${error.name ?? 'Error'}: ${error.message ?? ''}${error.stack !== undefined ? `\n${error.stack.split('\n').filter((l) => /^\s+at /.test(l) && !l.includes('/node_modules/')).join('\n')}` : ''}`
      this.flaky.push(...text.split('\n').slice(0, ERROR_LINES).map((line) => `      ${line}`))
    }
  }

  onTestRunEnd(_modules: ReadonlyArray<TestModule>): void {
    if (this.flaky.length === 0) return
    const lines = [
      '',
      `FLAKY: ${this.flaky.filter((l) => !l.startsWith('      ')).length} test(s) failed once and passed on the retry; each is a defect to mend:`,
      ...this.flaky.map((line) => (line.startsWith('      ') ? line : `  - ${line}`)),
      '',
    ]
    process.stdout.write(`${lines.join('\n')}\n`)
  }
}
