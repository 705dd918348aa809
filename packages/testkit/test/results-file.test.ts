import { describe, expect, it } from '@jest/globals';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchResultsDir, findRepoRoot } from '../src/index.js';

describe('bench results folder', () => {
  it('is the committed bench/results only when asked to record, else a temporary folder', () => {
    expect(benchResultsDir({ BALANCED_RECORD_RESULTS: '1' })).toBe(join(findRepoRoot(), 'bench', 'results'));
    for (const env of [{}, { BALANCED_RECORD_RESULTS: '0' }, { BALANCED_RECORD_RESULTS: 'yes' }]) {
      expect(benchResultsDir(env)).toBe(join(tmpdir(), 'balanced-bench-results'));
    }
  });
});
