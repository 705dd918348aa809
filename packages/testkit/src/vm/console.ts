import { StringDecoder } from 'node:string_decoder';

/** Serial-console marker printed by the guest init after the command finished. */
export const RUN_EXIT_MARKER = 'RUN_EXIT=';

/** Removes carriage returns from serial output (the guest tty writes CRLF). */
export function stripCr(text: string): string {
  return text.replace(/\r/g, '');
}

/**
 * A decoder for the serial console's byte chunks: a UTF-8 character split across two chunks
 * (the pipe cuts anywhere: a bar █ is three bytes) comes out whole with the second, instead of
 * as two replacement characters; carriage returns are removed.
 */
export function consoleDecoder(): (chunk: Buffer) => string {
  const decoder = new StringDecoder('utf8');
  return (chunk) => stripCr(decoder.write(chunk));
}

/** The status of the last `RUN_EXIT=<n>` line, or undefined when there is none. */
export function parseRunExit(consoleText: string): number | undefined {
  let found: number | undefined;
  for (const line of stripCr(consoleText).split('\n')) {
    const m = /^RUN_EXIT=(\d{1,3})\s*$/.exec(line);
    if (m?.[1] !== undefined) found = Number(m[1]);
  }
  return found;
}

/** The last `lines` lines of a console log (for error messages). */
export function consoleTail(consoleText: string, lines = 40): string {
  const all = stripCr(consoleText).replace(/\n+$/, '').split('\n');
  return all.slice(-lines).join('\n');
}
