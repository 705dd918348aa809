/** Serial-console marker printed by the guest init after the command finished. */
export const RUN_EXIT_MARKER = 'RUN_EXIT=';

/** Removes carriage returns from serial output (the guest tty writes CRLF). */
export function stripCr(text: string): string {
  return text.replace(/\r/g, '');
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
