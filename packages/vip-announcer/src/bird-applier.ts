// Puts a rendered file in front of BIRD: write it atomically, `configure check` the main
// configuration (which includes it), then `configure`. The file always holds what we want
// BIRD to run, with one exception: when BIRD *rejects* it (a configuration error), the
// previous content is put back, so a BIRD that restarts later still starts. When BIRD cannot
// be reached the new file stays: BIRD reads it whenever it comes back (a withdrawal written
// while BIRD is down must not be undone).
import type { ConfigureOutcome } from './bird-client.js';
import type { BirdError} from './bird-errors.js';
import { isBirdError } from './bird-errors.js';
import type { BirdReply } from './bird-reply.js';
import { readTextIfExists, removeIfExists, restrictFileMode, writeFileAtomic } from './atomic-file.js';

/** The part of BirdClient the applier uses. */
export interface BirdControl {
  configureCheck(file?: string): Promise<BirdReply>;
  configure(file?: string): Promise<ConfigureOutcome>;
  protocols(): Promise<readonly { readonly name: string }[]>;
}

export interface BirdApplierOptions {
  readonly bird: BirdControl;
  /** The file the main configuration includes. */
  readonly outputFile: string;
  /** Main configuration to check and load; BIRD's own when undefined. */
  readonly mainConfig?: string;
  /** Protocols the rendered file defines; after loading, BIRD must list them (else the file is not included). */
  readonly expectProtocols?: readonly string[];
}

export type ApplyResult =
  | { readonly changed: false }
  | { readonly changed: true; readonly outcome: ConfigureOutcome; readonly durationMs: number };

export class BirdConfigRejectedError extends Error {
  override readonly name = 'BirdConfigRejectedError';
  readonly code = 'BIRD_CONFIG_REJECTED';
  constructor(
    readonly stage: 'check' | 'configure',
    override readonly cause: BirdError,
  ) {
    super(`BIRD rejected the configuration at "${stage}" (${cause.replyCode ?? cause.code}): ${cause.replyText ?? cause.message}; the previous file was restored`);
  }
}

export class BirdNotIncludingError extends Error {
  override readonly name = 'BirdNotIncludingError';
  readonly code = 'BIRD_FILE_NOT_INCLUDED';
  constructor(
    readonly file: string,
    readonly missing: readonly string[],
  ) {
    super(`BIRD loaded its configuration but runs no ${missing.join(', ')}: does the main configuration include "${file}"?`);
  }
}

export class BirdConfigApplier {
  /** Content BIRD has confirmed loading (undefined until the first success). */
  private loaded: string | undefined;

  constructor(private readonly options: BirdApplierOptions) {}

  /** What BIRD last confirmed loading from us. */
  get loadedContent(): string | undefined {
    return this.loaded;
  }

  /**
   * Makes BIRD run `content`. Skips everything when the file already holds it and BIRD
   * loaded it. Throws BirdConfigRejectedError (an 8xxx/9xxx reply: file restored),
   * BirdNotIncludingError, or a BirdError (unreachable, timed out, an unexpected reply such as
   * "shutting down": the new file stays).
   */
  async apply(content: string, options: { readonly verify?: boolean } = {}): Promise<ApplyResult> {
    const { outputFile } = this.options;
    const previous = await readTextIfExists(outputFile);
    if (previous === content) await restrictFileMode(outputFile); // the file holds BGP passwords
    if (previous === content && this.loaded === content) {
      // Nothing to load. `verify` (the periodic resync) still asks BIRD whether it runs our
      // protocols: a BIRD that is down or lost the include shows up in /readyz.
      if (options.verify === true) await this.checkProtocols();
      return { changed: false };
    }
    const started = Date.now();
    if (previous !== content) await writeFileAtomic(outputFile, content);
    let stage: 'check' | 'configure' = 'check';
    let outcome: ConfigureOutcome;
    try {
      await this.options.bird.configureCheck(this.options.mainConfig);
      stage = 'configure';
      outcome = await this.options.bird.configure(this.options.mainConfig);
    } catch (e) {
      if (isBirdError(e, 'BIRD_REPLY_ERROR')) {
        if (previous !== content) await (previous === undefined ? removeIfExists(outputFile) : writeFileAtomic(outputFile, previous));
        throw new BirdConfigRejectedError(stage, e);
      }
      this.loaded = undefined;
      throw e;
    }
    this.loaded = content;
    await this.checkProtocols();
    return { changed: true, outcome, durationMs: Date.now() - started };
  }

  private async checkProtocols(): Promise<void> {
    const expected = this.options.expectProtocols ?? [];
    if (expected.length === 0) return;
    const running = new Set((await this.options.bird.protocols()).map((p) => p.name));
    const missing = expected.filter((p) => !running.has(p));
    if (missing.length > 0) {
      this.loaded = undefined;
      throw new BirdNotIncludingError(this.options.outputFile, missing);
    }
  }
}
