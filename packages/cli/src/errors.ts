/** Exit codes scripts can rely on. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** A failure the command reports in one line and exits 1 for (a kernel, file or cluster that could not be read, …). */
export class CliError extends Error {
  override readonly name: string = 'CliError';
  readonly exitCode: number = EXIT_FAILURE;
}

/** Bad arguments: exit 2, like commander's own usage errors. */
export class UsageError extends CliError {
  override readonly name = 'UsageError';
  override readonly exitCode = EXIT_USAGE;
}

export function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Exit 1 after the command has already said what failed (in its output): nothing more is printed. */
export class ReportedFailure extends CliError {
  override readonly name = 'ReportedFailure';
  constructor() {
    super('');
  }
}
