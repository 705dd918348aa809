import { Command, CommanderError } from 'commander';
import { birdCommand } from './commands/bird.js';
import { explainCommand } from './commands/explain.js';
import { labCommand } from './commands/lab.js';
import { planCommand } from './commands/plan.js';
import { statusCommand } from './commands/status.js';
import { CliError, EXIT_FAILURE, EXIT_OK, EXIT_USAGE, messageOf } from './errors.js';
import type { CliIo } from './io.js';

/** Every command and subcommand: output through `io`, errors thrown (never process.exit). */
function configure(cmd: Command, io: CliIo): void {
  cmd.exitOverride();
  cmd.configureOutput({ writeOut: io.out, writeErr: io.err });
  cmd.showHelpAfterError('(run with --help for usage)');
  for (const sub of cmd.commands) configure(sub, io);
}

export function createProgram(io: CliIo): Command {
  const program = new Command('balanced')
    .description('Inspect and dry-run balanced: what it will do (plan), why a client lands where it does (explain), what is programmed where (status), the BIRD config (bird render), the lab (lab up|down|demo).')
    .version('0.1.0')
    .addCommand(planCommand(io))
    .addCommand(explainCommand(io))
    .addCommand(statusCommand(io))
    .addCommand(birdCommand(io))
    .addCommand(labCommand(io));
  program.addHelpText('after', '\nExit status: 0 ok, 1 failure, 2 usage. Data commands take --json.\n');
  configure(program, io);
  return program;
}

/** Commander's own outcomes that are not usage errors. */
const NOT_USAGE = new Set(['commander.helpDisplayed', 'commander.version', 'commander.help']);

/** Runs the command line; resolves to the exit status (0 ok, 1 failure, 2 usage). */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const program = createProgram(io);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return EXIT_OK;
  } catch (e) {
    if (e instanceof CommanderError) {
      // Help asked for exits 0; help shown because a command is missing (exitCode 1) is a usage error.
      return NOT_USAGE.has(e.code) && e.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    }
    if (e instanceof CliError) {
      if (e.message !== '') io.err(`balanced: ${e.message}\n`);
      return e.exitCode;
    }
    io.err(`balanced: ${e instanceof Error ? (e.stack ?? e.message) : messageOf(e)}\n`);
    return EXIT_FAILURE;
  }
}
