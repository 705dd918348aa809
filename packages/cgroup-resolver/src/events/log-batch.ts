// Log lines of one events batch written to the logger's destination at once: pino still
// formats every line (same fields, bindings and formatters as any call), but the destination
// gets one write per batch instead of one per event (a write(2) each with pino's default sync
// destination; a growing string measured again per line with an asynchronous one).
import { pino, type Logger } from 'pino';

interface Destination {
  write(line: string): unknown;
}

type WithStream = Record<symbol, unknown>;

export interface LineBatch {
  /** Writes the lines held so far (one write). */
  flush(): void;
}

/**
 * Makes `log` (a child logger of its own) hold its lines until flush(). Undefined, and `log`
 * left as it was, when its destination wants per-line metadata (pino.multistream) or is not
 * a plain stream.
 */
export function batchLines(log: Logger): LineBatch | undefined {
  const { streamSym, needsMetadataGsym } = pino.symbols;
  const target = log as unknown as WithStream;
  const destination = target[streamSym] as (Destination & WithStream) | undefined;
  if (destination === undefined || typeof destination.write !== 'function' || destination[needsMetadataGsym] === true) return undefined;
  const lines: string[] = [];
  const holder: Destination = {
    write: (line) => lines.push(line),
  };
  target[streamSym] = holder;
  return {
    flush() {
      if (lines.length === 0) return;
      const text = lines.length === 1 ? lines[0]! : lines.join('');
      lines.length = 0;
      destination.write(text);
    },
  };
}
