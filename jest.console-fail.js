// A test that writes to the console fails: tests report through assertions, not logs.
// Deliberate, loud notices (e.g. "SKIPPED: reason") go to process.stderr directly.
import { afterEach } from '@jest/globals';

const written = [];
for (const level of ['log', 'info', 'warn', 'error', 'debug']) {
  const original = console[level];
  console[level] = (...args) => {
    written.push(`${level}: ${args.map(String).join(' ')}`);
    original.apply(console, args);
  };
}
afterEach(() => {
  if (written.length > 0) {
    const lines = written.splice(0);
    throw new Error(`test wrote to the console:\n${lines.join('\n')}`);
  }
});
