import { describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import type { BirdError} from '../src/index.js';
import { BirdReplyReader, isErrorCode, replyText, type BirdMessage } from '../src/bird-reply.js';

// Byte-for-byte what BIRD 2.0.12 sent on its control socket (captured from the real daemon),
// except the spontaneous "+" line, written the way BIRD's cli.c prints one.
const CAPTURED: readonly { name: string; wire: string; expected: BirdMessage[] }[] = [
  {
    name: 'greeting',
    wire: '0001 BIRD 2.0.12 ready.\n',
    expected: [{ kind: 'reply', reply: { code: 1, text: 'BIRD 2.0.12 ready.', lines: [{ code: 1, text: 'BIRD 2.0.12 ready.' }] } }],
  },
  {
    name: 'configure check: OK',
    wire: '0002-Reading configuration from main.conf\n0020 Configuration OK\n',
    expected: [
      {
        kind: 'reply',
        reply: { code: 20, text: 'Configuration OK', lines: [{ code: 2, text: 'Reading configuration from main.conf' }, { code: 20, text: 'Configuration OK' }] },
      },
    ],
  },
  {
    name: 'configure: a syntax error in an included file',
    wire: "0002-Reading configuration from main.conf\n8002 /tmp/vipa-probe/vips.conf:1:60 syntax error, unexpected '}', expecting ';' or '{'\n",
    expected: [
      {
        kind: 'reply',
        reply: {
          code: 8002,
          text: "/tmp/vipa-probe/vips.conf:1:60 syntax error, unexpected '}', expecting ';' or '{'",
          lines: [
            { code: 2, text: 'Reading configuration from main.conf' },
            { code: 8002, text: "/tmp/vipa-probe/vips.conf:1:60 syntax error, unexpected '}', expecting ';' or '{'" },
          ],
        },
      },
    ],
  },
  {
    name: 'show protocols: a heading, a table entry and " " continuations, then an empty final line',
    wire:
      '2002-Name       Proto      Table      State  Since         Info\n' +
      '1002-device1    Device     ---        up     21:00:36.595  \n' +
      ' vips       Static     master4    up     21:00:36.595  \n' +
      '0000 \n',
    expected: [
      {
        kind: 'reply',
        reply: {
          code: 0,
          text: '',
          lines: [
            { code: 2002, text: 'Name       Proto      Table      State  Since         Info' },
            { code: 1002, text: 'device1    Device     ---        up     21:00:36.595  ' },
            { code: 1002, text: 'vips       Static     master4    up     21:00:36.595  ' },
            { code: 0, text: '' },
          ],
        },
      },
    ],
  },
  {
    name: 'a command BIRD cannot parse',
    wire: '9001 syntax error, unexpected CF_SYM_UNDEFINED\n',
    expected: [{ kind: 'reply', reply: { code: 9001, text: 'syntax error, unexpected CF_SYM_UNDEFINED', lines: [{ code: 9001, text: 'syntax error, unexpected CF_SYM_UNDEFINED' }] } }],
  },
  {
    name: 'configure undo: two codes, then the outcome',
    wire: '0021-Undo requested\n0019 Nothing to do\n',
    expected: [{ kind: 'reply', reply: { code: 19, text: 'Nothing to do', lines: [{ code: 21, text: 'Undo requested' }, { code: 19, text: 'Nothing to do' }] } }],
  },
  {
    name: 'a spontaneous message between replies',
    wire: '+Config timeout expired, starting undo\n0003 Reconfigured\n',
    expected: [
      { kind: 'spontaneous', text: 'Config timeout expired, starting undo' },
      { kind: 'reply', reply: { code: 3, text: 'Reconfigured', lines: [{ code: 3, text: 'Reconfigured' }] } },
    ],
  },
];

describe('BirdReplyReader', () => {
  test.each(CAPTURED.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    expect(new BirdReplyReader().push(c.wire)).toEqual(c.expected);
  });

  test('any split of the byte stream decodes to the same messages', () => {
    const stream = CAPTURED.map((c) => c.wire).join('');
    const whole = new BirdReplyReader().push(stream);
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: stream.length - 1 }), { maxLength: 40 }), (cuts) => {
        const reader = new BirdReplyReader();
        const points = [0, ...cuts.sort((a, b) => a - b), stream.length];
        const out: BirdMessage[] = [];
        for (let i = 0; i + 1 < points.length; i++) out.push(...reader.push(stream.slice(points[i], points[i + 1])));
        expect(out).toEqual(whole);
        expect(reader.midReply).toBe(false);
      }),
    );
  });

  test('a half-received reply is held until its last line', () => {
    const r = new BirdReplyReader();
    expect(r.push('0002-Reading configuration from x\n')).toEqual([]);
    expect(r.midReply).toBe(true);
    expect(r.push('0003 Reconf')).toEqual([]);
    expect(r.push('igured\n')).toEqual([{ kind: 'reply', reply: expect.objectContaining({ code: 3, text: 'Reconfigured' }) }]);
  });

  test.each([
    ['a line that is not the protocol', 'hello\n'],
    ['a continuation with no reply open', ' orphan\n'],
    ['a code of three digits', '001 x\n'],
  ])('refuses %s with BIRD_PROTOCOL', (_what, wire) => {
    expect(() => new BirdReplyReader().push(wire)).toThrow(expect.objectContaining({ code: 'BIRD_PROTOCOL' }) as unknown as BirdError);
  });

  test('error codes and text helpers', () => {
    expect([0, 20, 1002, 2002, 8002, 9001].map(isErrorCode)).toEqual([false, false, false, false, true, true]);
    const [m] = new BirdReplyReader().push('0002-Reading\n8002 bad\n');
    expect(m?.kind === 'reply' && replyText(m.reply)).toBe('Reading\nbad');
  });
});
