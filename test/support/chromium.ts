// Headless Chromium (Debian's `chromium` package) for tests that must see a page rendered:
// the DOM after parsing, and a screenshot.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-headless-shell', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

/** $CHROMIUM, else the first Chromium installed at a Debian path; undefined when there is none. */
export function findChromium(): string | undefined {
  const own = process.env.CHROMIUM;
  if (own !== undefined && own !== '') return own;
  return CANDIDATES.find((c) => existsSync(c));
}

export interface Rendered {
  /** The DOM after parsing (--dump-dom). */
  readonly dom: string;
  /** A screenshot (PNG) of the first `height` pixels at `width`, device scale 1. */
  readonly png: Buffer;
}

function run(binary: string, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(binary, [...args], { timeout: 120_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error !== null) reject(new Error(`${binary} ${args.join(' ')}: ${error.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

/** Renders a local HTML file headless: its DOM, then a screenshot (two runs, each with a fresh profile). */
export async function renderPage(binary: string, file: string, size = { width: 1000, height: 1200 }): Promise<Rendered> {
  const profile = await mkdtemp(join(tmpdir(), 'chromium-profile-'));
  try {
    const common = [
      '--headless',
      '--disable-gpu',
      '--hide-scrollbars',
      '--no-first-run',
      `--user-data-dir=${profile}`,
      '--force-device-scale-factor=1',
      `--window-size=${size.width},${size.height}`,
      // Chromium refuses to run as root with its sandbox on (the integration tests run as root).
      ...(process.getuid?.() === 0 ? ['--no-sandbox'] : []),
    ];
    const url = pathToFileURL(file).href;
    const dom = await run(binary, [...common, '--dump-dom', url]);
    const shot = join(profile, 'screenshot.png');
    await run(binary, [...common, `--screenshot=${shot}`, url]);
    return { dom, png: await readFile(shot) };
  } finally {
    await rm(profile, { recursive: true, force: true });
  }
}
