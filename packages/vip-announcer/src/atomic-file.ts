// Replace a file so that a reader (BIRD, on `configure` or at start) sees either the old or
// the new content, never a part: write a temporary file in the same directory, fsync it,
// rename it over the target, fsync the directory.
//
// Mode 0600 by default: the rendered BIRD file holds the BGP session passwords. Only its owner
// reads it: the announcer writes it as uid 0 and BIRD (its own container, sharing the volume)
// runs as uid 0 too, and an owner needs no capability to read its own file (both containers
// drop CAP_DAC_OVERRIDE). Were BIRD run as another user (`bird -u bird -g bird`), 0640 with
// BIRD's group owning the directory would be the next step; the deploy does not do that.
import { chmod, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

let sequence = 0;

/** Owner read/write only. */
export const PRIVATE_FILE_MODE = 0o600;

export async function writeFileAtomic(path: string, content: string, mode = PRIVATE_FILE_MODE): Promise<void> {
  // A dot name: not matched by an `include "dir/*.conf"` glob while it exists.
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${++sequence}.tmp`);
  const file = await open(tmp, 'wx', mode);
  try {
    await file.chmod(mode); // exactly this mode, whatever the umask
    await file.writeFile(content, 'utf8');
    await file.sync();
  } catch (e) {
    await file.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  await file.close();
  try {
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  const dir = await open(dirname(path), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

/**
 * Sets the mode of an existing file when it differs (a file an older version left 0644 keeps
 * its content, and so would never be rewritten); a missing file is fine.
 */
export async function restrictFileMode(path: string, mode = PRIVATE_FILE_MODE): Promise<void> {
  let current: number;
  try {
    current = (await stat(path)).mode & 0o777;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  if (current !== mode) await chmod(path, mode);
}

/** The file's text, or undefined when it does not exist. */
export async function readTextIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** Removes the file; a missing file is fine. */
export async function removeIfExists(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}
