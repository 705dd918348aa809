// The CLI keeps some defaults as literals so that `balanced --help` loads no kernel library;
// they must stay equal to the packages' own.
import { describe, expect, it } from '@jest/globals';
import { DEFAULT_PIN_ROOT } from '@balanced/cgroup-resolver';
import { DEFAULT_PIN_ROOT as CLI_PIN_ROOT } from '../src/options.js';

describe('defaults', () => {
  it("uses the cgroup-resolver's own pin root", () => {
    expect(CLI_PIN_ROOT).toBe(DEFAULT_PIN_ROOT);
  });
});
