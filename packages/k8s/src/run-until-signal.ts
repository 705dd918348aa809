import type { Logger } from 'pino';

/** What a binary's start function returns: something to stop gracefully. */
export interface Stoppable {
  stop(): Promise<unknown>;
}

/**
 * The life of a controller binary: start it, and on SIGTERM or SIGINT stop it once, then
 * exit 0 (1 if stopping failed). A start that throws is fatal: logged, exit 1.
 */
export async function runUntilSignal(start: () => Promise<Stoppable>, log: Logger, options: { shutdownMessage?: string } = {}): Promise<void> {
  let running: Stoppable;
  try {
    running = await start();
  } catch (e) {
    log.fatal({ err: e instanceof Error ? e.message : String(e) }, 'cannot start');
    process.exit(1);
  }
  let stopping = false;
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      log.info({ signal }, options.shutdownMessage ?? 'shutting down');
      running.stop().then(
        () => process.exit(0),
        (e: unknown) => {
          log.error({ err: String(e) }, 'shutdown failed');
          process.exit(1);
        },
      );
    });
  }
}
