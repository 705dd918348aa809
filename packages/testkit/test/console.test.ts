import { describe, expect, it } from '@jest/globals';
import { consoleDecoder, consoleTail, parseRunExit, stripCr } from '../src/index.js';

describe('parseRunExit', () => {
  it('reads the status from a CRLF serial log', () => {
    expect(parseRunExit('booting\r\nhello\r\nRUN_EXIT=3\r\n[ 4.5] reboot: Power down\r\n')).toBe(3);
  });
  it('is undefined when the guest never reported', () => {
    expect(parseRunExit('Kernel panic - not syncing\r\n')).toBeUndefined();
    expect(parseRunExit('')).toBeUndefined();
  });
  it('ignores the marker inside other text and takes the last whole line', () => {
    expect(parseRunExit('echo RUN_EXIT=9\nxRUN_EXIT=8\nRUN_EXIT=0\n')).toBe(0);
    expect(parseRunExit('RUN_EXIT=1\nRUN_EXIT=255\n')).toBe(255);
  });
  it('needs digits', () => {
    expect(parseRunExit('RUN_EXIT=\nRUN_EXIT=abc\n')).toBeUndefined();
  });
});

describe('console helpers', () => {
  it('strips carriage returns', () => {
    expect(stripCr('a\r\nb\r')).toBe('a\nb');
  });
  it('keeps the last lines', () => {
    const log = Array.from({ length: 100 }, (_, i) => `line ${i}`).join('\r\n');
    const tail = consoleTail(log, 3);
    expect(tail).toBe('line 97\nline 98\nline 99');
  });
});

describe('consoleDecoder', () => {
  it('joins a UTF-8 character the pipe cut between two chunks (the demo\'s bars and check marks)', () => {
    const bytes = Buffer.from('ok ✔ ███\r\n', 'utf8');
    // Every cut point, including inside each three-byte character.
    for (let cut = 1; cut < bytes.length; cut++) {
      const decode = consoleDecoder();
      expect(decode(bytes.subarray(0, cut)) + decode(bytes.subarray(cut))).toBe('ok ✔ ███\n');
    }
  });
});
