// A vitest reporter that ends a run with one plain line, `N passed, N failed`, as .ci/run ends its
// whole run: `pnpm test:chaos` uses it. Tests that never ran because their file's setup failed
// count as failed, not as nothing.
import type { Reporter, TestModule } from 'vitest/node';

export default class ClosingLineReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    let passed = 0;
    let failed = 0;
    for (const module of modules) {
      const tests = [...module.children.allTests()];
      const states = tests.map((test) => test.result().state);
      const moduleFailed = module.state() === 'failed';
      passed += states.filter((state) => state === 'passed').length;
      const testsFailed = states.filter((state) => state === 'failed').length;
      failed += moduleFailed && testsFailed === 0 ? Math.max(1, tests.length) : testsFailed;
    }
    process.stdout.write(`\n${passed} passed, ${failed} failed\n`);
  }
}
