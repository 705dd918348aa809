/** Where a command writes: data on stdout, progress and warnings on stderr. */
export interface CliIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  /** stderr is a terminal: progress may be drawn there. */
  readonly errIsTty: boolean;
  readonly env: Readonly<Record<string, string | undefined>>;
}

export function processIo(): CliIo {
  // A reader that stops early (`balanced plan | head`) closes the pipe: stop quietly with the
  // status so far, as other command-line tools do, instead of an unhandled EPIPE.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
    process.exit(process.exitCode ?? 0);
  });
  return {
    out: (text) => void process.stdout.write(text),
    err: (text) => void process.stderr.write(text),
    errIsTty: process.stderr.isTTY === true,
    env: process.env,
  };
}
